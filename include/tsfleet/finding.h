#pragma once
// One shape for what is found: check, doctor and test all produce Findings, and one set of
// renderers (report/) prints them as text, JSON or SARIF.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet {

enum class Severity { info, warning, error };
std::string_view to_string(Severity s) noexcept;  // "info" | "warning" | "error"
std::optional<Severity> parse_severity(std::string_view s);

// Where a finding is: a file position, a host of the inventory, or both.
struct Subject {
  std::string file;   // path as given by the user (or "hosts/p620/tailscale.nix (generated)")
  unsigned line = 0;  // 1-based; 0 when the finding is about a whole file or host
  unsigned col = 0;
  std::string host;   // inventory host, when known

  // "file:line:col", "file", "host p620", or "" when nothing is known.
  std::string to_string() const;
};

struct Finding {
  std::string rule;      // rule id, e.g. "firewall-disabled"
  Severity severity = Severity::warning;
  Subject subject;
  std::string message;   // what is wrong, naming the option and value
  std::string fix;       // what to write instead (a NixOS snippet or a fleet-file change)
};

// Sorted by file, line, column, rule, so output is deterministic.
void sort_findings(std::vector<Finding>& findings);

}  // namespace tsfleet
