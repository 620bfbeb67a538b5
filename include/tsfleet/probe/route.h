#pragma once
// Which way the kernel would send a packet: `ip route get ADDR` (it follows the policy rules, so
// tailscale's table 52 shows up as `table 52`). No packet is sent.
#include <optional>
#include <string>
#include <string_view>

#include "tsfleet/sys/process.h"

namespace tsfleet::probe {

struct RouteLookup {
  bool ok = false;
  std::string destination;
  std::string dev;    // output interface
  std::string via;    // gateway, "" when on-link
  std::string src;    // preferred source
  std::string table;  // "" for main
  std::string type;   // "unicast" (default), "local", "unreachable", "blackhole", ...
  std::string error;  // when !ok: what ip said (e.g. "Network is unreachable")
};

// Parses the text `ip route get` prints for one destination. Garbage gives ok=false.
RouteLookup parse_ip_route_get(std::string_view output);

// Runs `ip route get ADDR` through the runner. ok=false with the error when ip fails; throws
// Error(io) when `ip` is not installed.
RouteLookup route_get(sys::ProcessRunner& runner, const std::string& address);

}  // namespace tsfleet::probe
