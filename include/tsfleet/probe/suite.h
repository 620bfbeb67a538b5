#pragma once
// `tsfleet test`: what to probe comes from the HostPlans (plan() is the only place roles mean
// something): every other fleet host is pinged (routers must answer directly), echoed, MTU-probed
// and resolved; a host that accepts routes probes every route the routers offer; a host that uses
// an exit node checks that the internet route goes through tailscale.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tsfleet/localapi/client.h"
#include "tsfleet/plan.h"
#include "tsfleet/probe/dns.h"
#include "tsfleet/probe/ping.h"
#include "tsfleet/probe/throughput.h"
#include "tsfleet/report/result.h"
#include "tsfleet/sys/process.h"

namespace tsfleet::probe {

enum class ProbeKind { ping, icmp, mtu, dns, route, exit_node, netcheck, throughput };
std::string_view to_string(
    ProbeKind k) noexcept;  // "ping" "icmp" "mtu" "dns" "route" "exit-node" "netcheck" "throughput"
// Throws Error(usage) naming the known kinds (with a suggestion).
ProbeKind parse_probe_kind(std::string_view text);

// Exit codes of `tsfleet test` (docs/cli.md).
namespace test_exit {
inline constexpr int all_direct = 0;
inline constexpr int failures = 1;  // a probe failed (not a path problem)
inline constexpr int some_relayed =
    10;  // every peer answered, some only through DERP / a peer relay
inline constexpr int some_unreachable = 11;  // at least one peer did not answer at all
}  // namespace test_exit

// How the netcheck probe is made (netcheck.h): `automatic` runs the tailscale CLI when it is on
// PATH and sends STUN itself otherwise.
enum class NetcheckMethod { automatic, cli, stun };
// "auto" | "cli" | "stun"; throws Error(usage) otherwise.
NetcheckMethod parse_netcheck_method(std::string_view text);

struct SuiteOptions {
  std::set<ProbeKind> kinds;  // empty: ping icmp mtu dns route exit-node (+ netcheck when relayed)
  std::vector<std::string> peers;  // fleet host names; empty: every other fleet host
  int jobs = 32;
  std::chrono::milliseconds probe_timeout{30'000};  // the deadline of each probe
  PingOptions ping;
  std::string interface_name;  // "" -> the host plan's (tailscale0)
  int interface_mtu = 0;       // 0 -> read /sys/class/net/<if>/mtu, else 1280
  std::chrono::milliseconds echo_timeout{1000};
  DnsServer dns;
  std::string exit_probe_address =
      "198.51.100.1";
  std::string exit_probe_address6 = "2001:db8::1";  // the same for IPv6 ("" skips it)  // only looked up with `ip route get`; no packet sent
  std::map<std::string, std::string> route_targets;  // CIDR -> address to probe inside it
  std::optional<std::string> egress_url, egress_expect;
  std::string tailscale_cli = "tailscale";
  std::optional<std::string> socket;           // passed to the tailscale CLI for netcheck
  NetcheckMethod netcheck = NetcheckMethod::automatic;
  std::chrono::milliseconds stun_timeout{3000};  // the STUN exchange (capped by probe_timeout)
  std::optional<std::string> throughput_peer;  // host name or address
  std::uint16_t throughput_port = kDefaultProbePort;
  ThroughputLimits throughput;
};

struct PeerPath {
  std::string peer, ip;
  PathKind path = PathKind::unreachable;
  std::string via;
  double latency_ms = 0;
};

struct SuiteReport {
  std::string host;  // this host
  std::vector<Result> results;
  std::vector<PeerPath> paths;
  int exit_code = test_exit::all_direct;
};

struct SuiteEnv {
  // A LocalApi per probe (clients are not shared between threads).
  std::function<std::unique_ptr<localapi::LocalApi>()> api;
  sys::ProcessRunner* runner = nullptr;
  std::function<void(std::size_t, std::size_t, const std::string&)> progress;
  // Reads an interface's MTU (default: /sys/class/net/<if>/mtu); nullopt when unknown.
  std::function<std::optional<int>(const std::string&)> interface_mtu;
};

// Runs the probes for `self` against the other hosts of `plans`. Throws Error(daemon) when the
// daemon cannot be asked or is not Running, Error(usage) for a --peer that is not in the fleet.
SuiteReport run_suite(const std::vector<HostPlan>& plans, const HostPlan& self,
                      const SuiteOptions& options, const SuiteEnv& env);

// The exit code for a set of results and paths (the rule in docs/cli.md): 11 when a peer is
// unreachable, else 1 when any probe failed, else 10 when a peer is relayed, else 0.
int exit_code_for(const std::vector<Result>& results, const std::vector<PeerPath>& paths);

// {"schema_version":1, "host", "exit_code", "results":[...], "summary":{...}, "peers":[{peer, ip,
// path, via, latency_ms}]}
nlohmann::json render_suite_json(const SuiteReport& report);
// A table of peers and paths, then the result lines.
std::string render_suite_text(const SuiteReport& report, bool colour);

}  // namespace tsfleet::probe
