#include "tsfleet/release.h"

#include <charconv>

#include <fmt/format.h>

namespace tsfleet {

std::string NixosRelease::to_string() const {
  if (unstable) return "unstable";
  return fmt::format("{:02}.{:02}", year, month);
}

std::optional<NixosRelease> parse_nixos_release(std::string_view text) {
  if (text == "unstable") return NixosRelease{0, 0, true};
  if (text.size() != 5 || text[2] != '.') return std::nullopt;
  int y = 0, m = 0;
  auto r1 = std::from_chars(text.data(), text.data() + 2, y);
  auto r2 = std::from_chars(text.data() + 3, text.data() + 5, m);
  if (r1.ec != std::errc() || r1.ptr != text.data() + 2 || r2.ec != std::errc() || r2.ptr != text.data() + 5)
    return std::nullopt;
  if (m != 5 && m != 11) return std::nullopt;
  return NixosRelease{y, m, false};
}

NixosRelease oldest_supported_release() { return {23, 5, false}; }

const std::vector<OptionGate>& option_gates() {
  static const std::vector<OptionGate> gates = {
      {"services.tailscale.useRoutingFeatures", {23, 5}, "nixpkgs PR #201119"},
      {"services.tailscale.openFirewall", {23, 11}, "nixpkgs PR #262408"},
      {"services.tailscale.authKeyFile", {23, 11}, "nixpkgs PR #242703"},
      {"services.tailscale.extraUpFlags", {23, 11}, "nixpkgs PR #245570"},
      {"services.tailscale.extraDaemonFlags", {24, 5}, "nixpkgs PR #291907"},
      {"services.tailscale.extraSetFlags", {24, 11}, "nixpkgs PR #309551"},
      {"services.tailscale.authKeyParameters", {24, 11}, "nixpkgs PR #338505"},
      {"services.tailscale.disableTaildrop", {24, 11}, "nixpkgs PR #346957"},
      {"services.tailscale.derper", {24, 11}, "nixpkgs PR #306533"},
      {"services.tailscale.disableUpstreamLogging", {25, 11}, "nixpkgs PR #432412"},
      {"services.resolved.settings", {26, 5}, "nixpkgs PR #416720"},
  };
  return gates;
}

const OptionGate* find_option_gate(std::string_view option) {
  for (const auto& g : option_gates()) {
    if (option == g.option || (option.size() > g.option.size() && option.substr(0, g.option.size()) == g.option &&
                               option[g.option.size()] == '.'))
      return &g;
  }
  return nullptr;
}

bool release_has_option(const NixosRelease& release, std::string_view option) {
  const OptionGate* g = find_option_gate(option);
  return !g || release.at_least(g->since);
}

}  // namespace tsfleet
