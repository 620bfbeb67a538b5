#pragma once
// NAT and DERP: the report of `tailscale netcheck --format=json` (tailscale-api.md §3.4), and
// what it says about why a peer is relayed. tailscale netcheck runs in the CLI process (it sends
// its own STUN probes to the DERP map's servers), so tsfleet runs the CLI rather than the daemon.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/report/result.h"
#include "tsfleet/sys/process.h"

namespace tsfleet::probe {

struct NetcheckReport {
  bool udp = false, ipv4 = false, ipv6 = false, ipv4_can_send = false, icmpv4 = false;
  // opt.Bool: nullopt means "not checked".
  std::optional<bool> mapping_varies_by_dest_ip, upnp, pmp, pcp, captive_portal, hair_pinning;
  std::int64_t preferred_derp = 0;                  // 0: unknown
  std::map<std::string, double> region_latency_ms;  // region ID -> ms (JSON has nanoseconds)
  std::string global_v4, global_v6;                 // ip:port or ""
};

// Parses the JSON report. Lenient like the LocalAPI types: absent or wrong-typed keys keep their
// defaults. Throws Error(input) for text that is not a JSON object (naming `what`).
NetcheckReport parse_netcheck_report(std::string_view json,
                                     std::string_view what = "netcheck JSON");

// Runs `<tailscale> netcheck --format=json` (with --socket when given). Throws Error(io) when the
// CLI cannot be started, Error(daemon) when it fails (with its stderr), Error(timeout).
NetcheckReport run_netcheck(sys::ProcessRunner& runner, const std::string& tailscale,
                            const std::optional<std::string>& socket,
                            std::chrono::milliseconds timeout);

// Why peers may be relayed, one reason a line ("" when the report shows nothing against a direct
// path): UDP blocked, hard NAT (mapping varies by destination), no port mapping, captive portal.
std::string explain_relay(const NetcheckReport& report);

// The netcheck result: PASS when UDP works and the NAT is easy; WARN for a hard NAT; FAIL when
// UDP is blocked. `relayed_peers` (may be empty) is named in the summary.
Result netcheck_result(const NetcheckReport& report, const std::vector<std::string>& relayed_peers);

}  // namespace tsfleet::probe
