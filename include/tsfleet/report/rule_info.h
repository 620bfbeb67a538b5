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
};

}  // namespace tsfleet
