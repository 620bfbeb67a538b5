#pragma once
// NAT and DERP, two ways to the same report (netcheck.Report, tailscale-api.md §3.4), and what
// it says about why a peer is relayed:
// - run `tailscale netcheck --format=json` (the CLI sends its own STUN probes, and also checks
//   port mapping and captive portals), or
// - send STUN Binding requests ourselves (stun.h) to the STUN servers of the daemon's DERP map,
//   from one UDP socket per address family, like tailscale's netcheck does: UDP works, the
//   public address, whether the mapping varies by destination (hard NAT), region latencies.
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/localapi/types.h"
#include "tsfleet/probe/stun.h"
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
  // How the report was made ("tailscale netcheck" or "STUN") and, for STUN, one line a server
  // (what it saw, or why it did not answer), for the result's detail.
  std::string method = "tailscale netcheck";
  std::vector<std::string> notes;
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

// One STUN server of the DERP map.
struct StunTarget {
  std::int64_t region_id = 0;
  std::string region_code;  // e.g. "fra"
  std::string node;         // DERPNode.Name, e.g. "4c"
  std::string ip;           // address literal
  std::uint16_t port = stun::kDefaultPort;
  bool ipv6 = false;
  std::string endpoint() const;  // "ip:port" / "[ip]:port"
};

// The STUN servers of `map`, like tailscale's netcheck picks them: the first two nodes of each
// region (in region ID order) that have STUN (STUNPort -1 has none; 0 means 3478), at the node's
// STUNTestIP, else its IPv4 and IPv6 literals ("none" or empty: that family is skipped). Nodes
// known only by HostName are resolved through the system resolver when `resolve_names`.
std::vector<StunTarget> stun_targets(const localapi::DerpMap& map, bool resolve_names = true);

struct StunOptions {
  std::chrono::milliseconds timeout{3000};     // the whole exchange
  std::chrono::milliseconds retransmit{300};   // a server that has not answered gets another try
  int attempts = 3;                            // requests per server at most
};

// Sends Binding requests to every target from one UDP socket per family and builds the report:
// UDP / IPv4 / IPv6 (some server answered over it), IPv4CanSend, GlobalV4/GlobalV6 (what the
// fastest server saw), MappingVariesByDestIP (servers at different addresses saw different
// public endpoints; null when fewer than two answered), RegionLatency (the best round trip per
// region) and PreferredDERP (the fastest region). Port mapping and captive portals are not
// checked (null). Throws Error(io) when no UDP socket can be opened at all.
NetcheckReport stun_netcheck(const std::vector<StunTarget>& targets, const StunOptions& options);

// Why peers may be relayed, one reason a line ("" when the report shows nothing against a direct
// path): UDP blocked, hard NAT (mapping varies by destination), no port mapping, captive portal.
std::string explain_relay(const NetcheckReport& report);

// The netcheck result: PASS when UDP works and the NAT is easy; WARN for a hard NAT; FAIL when
// UDP is blocked. `relayed_peers` (may be empty) is named in the summary.
Result netcheck_result(const NetcheckReport& report, const std::vector<std::string>& relayed_peers);

}  // namespace tsfleet::probe
