#pragma once
// tailscale ping through the LocalAPI, with the CLI's semantics (tailscale-api.md §3.8): up to
// `count` disco pings, each with its own deadline; stop at the first direct pong (until_direct);
// pause `relayed_gap` after a relayed pong (NAT traversal needs the time). The path of the last
// pong is the answer: direct (ip:port), DERP(region), or peer relay.
#include <chrono>
#include <string>

#include "tsfleet/localapi/client.h"
#include "tsfleet/report/result.h"

namespace tsfleet::probe {

enum class PathKind { direct, derp, peer_relay, unreachable, local, error };
std::string_view to_string(PathKind k) noexcept;  // "direct" | "derp" | "peer-relay" | ...

struct PingOptions {
  int count = 10;                               // like -c 10
  bool until_direct = true;                     // like --until-direct
  std::chrono::milliseconds per_ping{5000};     // like --timeout 5s
  std::chrono::milliseconds relayed_gap{1000};  // the CLI sleeps 1 s after a relayed pong
  int size = 0;                                 // disco only; 0: default
  // The whole probe stops when this passes (no further ping is started that could not finish).
  std::chrono::milliseconds deadline{60'000};
};

struct PingOutcome {
  PathKind path = PathKind::unreachable;
  std::string via;        // "192.0.2.7:41641", "DERP(fra)", "peer-relay(…)"
  double latency_ms = 0;  // of the last pong
  int sent = 0, answered = 0;
  std::string node_name;
  std::string err;  // the daemon's Err, or the last timeout/error text
};

// Pings `ip` (a peer's tailnet address). Daemon errors other than a per-ping timeout end the
// loop with PathKind::error; they do not throw.
PingOutcome tailscale_ping(localapi::LocalApi& api, const std::string& ip,
                           const PingOptions& options);

// The result for one peer: PASS direct; relayed is FAIL when `expect_direct` (a router), else
// WARN; unreachable is FAIL. Check id "ping".
Result ping_result(const std::string& peer, const std::string& ip, const PingOutcome& o,
                   bool expect_direct);

}  // namespace tsfleet::probe
