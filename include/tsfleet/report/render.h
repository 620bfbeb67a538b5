#pragma once
// The renderers every verb shares: text for people, JSON for scripts, SARIF 2.1.0 for code
// scanning.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsfleet/finding.h"
#include "tsfleet/report/rule_info.h"

namespace tsfleet {

// `file:line:col: severity: message [rule]` then `  fix: ...` lines; a summary line at the end.
std::string render_text(const std::vector<Finding>& findings, bool colour);

// {"schema_version": 1, "findings": [{rule, severity, file, line, col, host, message, fix}], "summary": {...}}
nlohmann::json render_json(const std::vector<Finding>& findings);

// A SARIF 2.1.0 log with one run of tool "tsfleet": rules from `rules`, one result per finding.
nlohmann::json render_sarif(const std::vector<Finding>& findings, const std::vector<RuleInfo>& rules,
                            const std::string& tool_version);

}  // namespace tsfleet
