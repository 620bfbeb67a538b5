#pragma once
// The rules of `tsfleet check` (docs/rules.md is generated from rule_catalogue()). Each rule
// reads what the module reader found, never evaluates Nix, and stays silent on what it cannot
// know.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/finding.h"
#include "tsfleet/fleet.h"
#include "tsfleet/lint/module_reader.h"
#include "tsfleet/plan.h"
#include "tsfleet/release.h"
#include "tsfleet/report/rule_info.h"

namespace tsfleet::lint {

const std::vector<RuleInfo>& rule_catalogue();
const RuleInfo* find_rule(std::string_view id);

struct HostContext {
  std::optional<NixosRelease> release;  // the target release, when known (the fleet's)
  const HostPlan* plan = nullptr;       // the inventory's plan for this host, when matched
  std::string host;                     // the inventory host name, when matched
};

// Rules over a host's whole configuration (a root module and its imports).
std::vector<Finding> check_module_set(const ModuleSet& set, const HostContext& context);

// Rules over one file's text: an auth key written anywhere in it.
std::vector<Finding> check_file_text(const std::string& file, std::string_view text);

// Rules over the inventory as a whole (overlapping routes, tags no one owns).
std::vector<Finding> check_fleet(const Fleet& fleet, const std::vector<HostPlan>& plans);

// The markdown of docs/rules.md.
std::string render_rules_markdown();

}  // namespace tsfleet::lint
