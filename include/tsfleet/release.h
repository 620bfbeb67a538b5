#pragma once
// NixOS releases and the first release that has each services.tailscale (and related) option.
// One table, used by configure (emit or fall back) and by check (options the target lacks).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet {

// A NixOS release "YY.MM" (MM is 05 or 11) or "unstable" (newer than every numbered release).
struct NixosRelease {
  int year = 0;   // 23 for 23.05
  int month = 0;  // 5 or 11
  bool unstable = false;

  int ordinal() const { return unstable ? 1'000'000 : year * 100 + month; }
  bool at_least(const NixosRelease& other) const { return ordinal() >= other.ordinal(); }
  std::string to_string() const;
  auto operator<=>(const NixosRelease& o) const { return ordinal() <=> o.ordinal(); }
  bool operator==(const NixosRelease& o) const { return ordinal() == o.ordinal(); }
};

std::optional<NixosRelease> parse_nixos_release(std::string_view text);

// The oldest release tsfleet generates for (useRoutingFeatures appeared in 23.05).
NixosRelease oldest_supported_release();

struct OptionGate {
  std::string option;      // e.g. "services.tailscale.extraSetFlags"
  NixosRelease since;      // first release that has it
  std::string reference;   // where that fact comes from, e.g. "nixpkgs PR #309551"
};

// Every gated option, oldest first.
const std::vector<OptionGate>& option_gates();

// Whether `release` has `option` (options not in the table are assumed present).
bool release_has_option(const NixosRelease& release, std::string_view option);

// The gate for an option, if it is gated.
const OptionGate* find_option_gate(std::string_view option);

}  // namespace tsfleet
