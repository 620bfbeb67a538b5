#pragma once
// The whole of `tsfleet check` as a library call: collect .nix files, group them into hosts
// (a root and what it imports), run the rules, lint the fleet file and the modules configure
// would generate, apply suppressions and filters. The CLI only parses options and renders.
#include <filesystem>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tsfleet/finding.h"
#include "tsfleet/fleet.h"
#include "tsfleet/release.h"

namespace tsfleet::lint {

struct CheckRequest {
  std::vector<std::filesystem::path> paths;  // .nix files and directories (searched recursively)
  std::optional<Fleet> fleet;                // the inventory, when there is one
  bool check_generated = true;               // lint the modules configure would write for the fleet
  std::string generated_dir = "hosts";       // where configure writes them (names the findings)
  std::optional<NixosRelease> release;       // target release; default: the fleet's
  std::set<std::string> disabled;            // rule ids not to run
  Severity min_severity = Severity::info;    // findings below are dropped
};

struct CheckReport {
  std::vector<Finding> findings;  // sorted, deduplicated, suppressions applied
  size_t files_checked = 0;
  size_t hosts_checked = 0;        // root modules (and generated modules)
  bool syntax_errors = false;      // some .nix file does not parse (rule "syntax-error")
};

// Runs the check. Throws Error(usage) for a path that does not exist, Error(io) for one that
// cannot be read.
CheckReport run_check(const CheckRequest& request);

// The suppressions a file's comments make: `# tsfleet: ignore RULE[,RULE]` covers its own line
// and the next; `# tsfleet: ignore-file RULE` the whole file.
struct Suppressions {
  std::vector<std::pair<unsigned, std::string>> lines;  // (line, rule), sorted by line
  std::set<std::string> file;
  bool covers(const Finding& f) const;
};
Suppressions parse_suppressions(std::string_view text);

}  // namespace tsfleet::lint
