#pragma once
// What a rule is, for docs/rules.md, `check --list-rules` and SARIF's rule metadata.
#include <string>
#include <vector>

#include "tsfleet/finding.h"

namespace tsfleet {

struct RuleInfo {
  std::string id;
  Severity severity;
  std::string title;  // one line
  std::string why;    // the failure it prevents, with the upstream issue where there is one
  std::string fix;    // how to fix it
  std::string bad;    // a snippet that fires
  std::string good;   // the same snippet, fixed
  // What the examples are: "module" (the body of a NixOS module's attribute set) or "fleet" (a
  // fleet file); the release the module examples target ("" means the newest).
  std::string example_kind = "module";
  std::string example_release;
};

}  // namespace tsfleet
