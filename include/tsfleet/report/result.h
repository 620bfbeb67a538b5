#pragma once
// What doctor's checks and test's probes report: one result per check, with an outcome, what was
// seen, and (when it is not a pass) the fix. Problems found by check are Findings (finding.h);
// a WARN or FAIL result converts to one, so every verb can share the SARIF/JSON renderers.
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsfleet/finding.h"

namespace tsfleet {

enum class Outcome { pass, warn, fail, skip };
std::string_view to_string(Outcome o) noexcept;  // "PASS" | "WARN" | "FAIL" | "SKIP"

struct Result {
  std::string check;    // id, e.g. "rp-filter" or "ping-direct"
  Outcome outcome = Outcome::skip;
  Subject subject;      // the host/peer (and file) it is about
  std::string summary;  // one line: what was checked and what was seen
  std::string detail;   // optional: more of what was seen (several lines)
  std::string fix;      // for warn/fail: the NixOS snippet or command that fixes it
};

// The worst outcome (fail > warn > pass > skip); skip when empty.
Outcome worst(const std::vector<Result>& results);

// `PASS  check  subject: summary` lines with the fix indented below; colour on a TTY.
std::string render_results_text(const std::vector<Result>& results, bool colour);
// {"schema_version": 1, "results": [...], "summary": {"pass": n, ...}}
nlohmann::json render_results_json(const std::vector<Result>& results);
// WARN -> warning, FAIL -> error findings (PASS and SKIP are dropped).
std::vector<Finding> to_findings(const std::vector<Result>& results);

}  // namespace tsfleet
