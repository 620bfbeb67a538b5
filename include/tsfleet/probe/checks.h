#pragma once
// The network probes that are not tailscale ping: each one function returning one Result whose
// summary names what was seen and whose detail starts with the layer that failed
// ("layer: ..."), and whose fix says what to check. Check ids: "icmp", "icmp6", "mtu",
// "magicdns", "subnet-route", "exit-node", "exit-node6", "egress".
#include <chrono>
#include <optional>
#include <string>

#include "tsfleet/probe/dns.h"
#include "tsfleet/probe/icmp.h"
#include "tsfleet/probe/route.h"
#include "tsfleet/report/result.h"
#include "tsfleet/sys/process.h"

namespace tsfleet::probe {

// Echo requests to a peer's tailnet address, IPv4 (check "icmp") or IPv6 (ICMPv6, check "icmp6"):
// PASS on the first reply (of `attempts`).
Result icmp_check(const std::string& peer, const std::string& ip, int attempts,
                  std::chrono::milliseconds timeout);

// The largest packet (IPv4 total length) that crosses to `ip` with DF set, searching up to
// `interface_mtu` (1280 for tailscale0). PASS when the full MTU passes; FAIL with the largest that
// passed otherwise. `step_timeout` is the wait for each echo.
Result mtu_check(const std::string& peer, const std::string& ip, int interface_mtu,
                 const std::string& interface_name, std::chrono::milliseconds step_timeout);

// The largest size that passes, found by the same search (exposed for tests): 0 when even a
// minimal echo gets no answer.
struct MtuSearch {
  int largest_ok = 0;
  int smallest_failed = 0;  // 0 when the full MTU passed
  int probes_sent = 0;
  std::string last_failure;  // what the first failed size gave (timeout / too big ...)
};
MtuSearch search_path_mtu(IcmpPinger& pinger, const std::string& ip, int max_size,
                          std::chrono::milliseconds step_timeout);

// `name` (a peer's MagicDNS FQDN) resolves through `server` to `expected_ip` (A) and, when
// `expected_ipv6` is not empty, to it as well (AAAA).
Result magicdns_check(const std::string& peer, const std::string& name,
                      const std::string& expected_ip, const std::string& expected_ipv6,
                      const DnsServer& server, std::chrono::milliseconds timeout);

// A target inside `route` (offered by `router`) is reachable from here: the kernel routes it via
// `interface_name`, and it answers ICMP echo.
Result subnet_route_check(sys::ProcessRunner& runner, const std::string& router,
                          const std::string& route, const std::string& target,
                          const std::string& interface_name, std::chrono::milliseconds timeout);

// The route to `public_address` goes through `interface_name` (tailscale sends exit-node traffic
// through its policy table 52); `exit_node` names the node the plan says this host uses. An IPv6
// address gives check "exit-node6".
Result exit_node_route_check(sys::ProcessRunner& runner, const std::string& exit_node,
                             const std::string& public_address, const std::string& interface_name);

// GET `url` (http:// only); its body (trimmed) is the address the world sees. PASS when it equals
// `expected` (the exit node's public address), WARN when nothing to compare with, FAIL otherwise.
Result egress_check(const std::string& exit_node, const std::string& url,
                    const std::optional<std::string>& expected, std::chrono::milliseconds timeout);

// The first host address inside a CIDR ("192.168.10.0/24" -> "192.168.10.1", "fd00:10::/64" ->
// "fd00:10::1"); nullopt for a default route or invalid text.
std::optional<std::string> first_host_in(const std::string& cidr);

}  // namespace tsfleet::probe
