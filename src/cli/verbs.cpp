#include "verbs.h"

#include <fmt/format.h>

#include "tsfleet/error.h"

namespace tsfleet::cli {

namespace {

// A verb a later release delivers: it exists, says what it will do, and refuses honestly.
[[maybe_unused]] std::function<void(CLI::App&, const GlobalOptions&, Runner&)> not_yet(const char* name) {
  return [name](CLI::App& sub, const GlobalOptions&, Runner& run) {
    sub.allow_extras();
    run = [name]() -> int {
      throw Error(ErrorCategory::unavailable,
                  fmt::format("`tsfleet {}` is not available yet in this version: nothing was done", name));
    };
  };
}

}  // namespace

const std::vector<Verb>& verbs() {
  static const std::vector<Verb> table = {
      {"configure", "Write one NixOS module per host from its role in the fleet file", "the fleet file only", true,
       setup_configure},
      {"check", "Lint the fleet file and NixOS modules offline (for CI)", "the fleet file and .nix files", true, setup_check},
      {"up", "Connect this host idempotently with its role's flags and an auth key from a secret file",
       "the local tailscaled and the fleet file", true, setup_up},
      {"status", "Show the fleet as the daemon sees it: online, direct or relayed, routes, exit node, key expiry",
       "the local tailscaled (and the fleet file)", true, setup_status},
      {"test", "Probe the tailnet: ping direct vs DERP, ICMP, MTU, MagicDNS, routes, exit node, throughput",
       "the local tailscaled and the network", true, setup_test},
      {"monitor", "Watch health continuously: state changes, Prometheus metrics, alert hooks",
       "the local tailscaled", true, setup_monitor},
      {"doctor", "Diagnose the known failure modes on this host and print the NixOS fix",
       "this host's /proc, /sys, /etc, tailscaled and its NTP servers", true, setup_doctor},
      {"probe-server", "Serve the other end of `tsfleet test --throughput` (a bounded TCP sink)", "the network only", true, setup_probe_server},
      {"completion", "Print a shell completion script (bash, zsh, fish); completes host names from the fleet file",
       "nothing", true, setup_completion},
      {"manpage", "Print the man page", "nothing", true, setup_manpage},
  };
  return table;
}

}  // namespace tsfleet::cli
