#include "tsfleet/probe/checks.h"

#include <fmt/format.h>
#include <httplib.h>

#include "tsfleet/cidr.h"
#include "tsfleet/error.h"

namespace tsfleet::probe {

namespace {
Result make(const char* check, const std::string& peer) {
  Result r;
  r.check = check;
  r.subject.host = peer;
  return r;
}
}  // namespace

Result icmp_check(const std::string& peer, const std::string& ip, int attempts,
                  std::chrono::milliseconds timeout) {
  const bool v6 = ip.find(':') != std::string::npos;
  Result r = make(v6 ? "icmp6" : "icmp", peer);
  IcmpPinger pinger(v6);
  EchoOutcome last;
  for (int i = 0; i < std::max(attempts, 1); ++i) {
    last = pinger.echo(ip, v6 ? 104 : 84, false, timeout);  // ping's default 56-byte payload
    if (last.status == EchoOutcome::Status::reply) {
      r.outcome = Outcome::pass;
      r.summary = fmt::format("{} answers ICMP echo in {:.2f} ms", ip, last.rtt_ms);
      r.detail = fmt::format("via a {}", pinger.why());
      return r;
    }
  }
  r.outcome = Outcome::fail;
  r.summary = fmt::format("{}: {}", ip, last.message);
  r.detail = fmt::format(
      "layer: {} over the tailnet ({})\nvia a {}", v6 ? "IPv6" : "IP",
      last.status == EchoOutcome::Status::unreachable ? "no route or rejected" : "echo lost",
      pinger.why());
  r.fix =
      "if `tailscale ping` passes but ICMP fails, the peer's firewall drops it: "
      "networking.firewall.trustedInterfaces "
      "= [ \"tailscale0\" ]; (or allowPing); check `ip route get " +
      ip + "` goes via tailscale0";
  return r;
}

MtuSearch search_path_mtu(IcmpPinger& pinger, const std::string& ip, int max_size,
                          std::chrono::milliseconds step_timeout) {
  MtuSearch s;
  auto passes = [&](int size) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      ++s.probes_sent;
      auto o = pinger.echo(ip, static_cast<std::size_t>(size), true, step_timeout);
      if (o.status == EchoOutcome::Status::reply) return true;
      if (s.last_failure.empty()) s.last_failure = o.message;
      if (o.status == EchoOutcome::Status::too_big) return false;  // definite, no retry
    }
    return false;
  };
  const int floor_size = 84;  // ping's default: 56 bytes of payload
  if (max_size < floor_size) max_size = floor_size;
  if (passes(max_size)) {
    s.largest_ok = max_size;
    s.last_failure.clear();
    return s;
  }
  std::string full_failure = s.last_failure;
  s.last_failure.clear();
  if (!passes(floor_size)) {
    s.smallest_failed = floor_size;
    return s;
  }
  int lo = floor_size, hi = max_size;  // lo passes, hi fails
  while (hi - lo > 1) {
    int mid = lo + (hi - lo) / 2;
    if (passes(mid))
      lo = mid;
    else
      hi = mid;
  }
  s.largest_ok = lo;
  s.smallest_failed = hi;
  s.last_failure = full_failure;
  return s;
}

Result mtu_check(const std::string& peer, const std::string& ip, int interface_mtu,
                 const std::string& interface_name, std::chrono::milliseconds step_timeout) {
  Result r = make("mtu", peer);
  IcmpPinger pinger;
  MtuSearch s = search_path_mtu(pinger, ip, interface_mtu, step_timeout);
  if (s.largest_ok == interface_mtu) {
    r.outcome = Outcome::pass;
    r.summary = fmt::format("{}-byte packets with DF reach {} (the {} MTU)", interface_mtu, ip,
                            interface_name);
    return r;
  }
  r.outcome = Outcome::fail;
  if (s.largest_ok == 0) {
    r.summary = fmt::format("no DF echo of {} bytes or less came back from {}: {}", interface_mtu,
                            ip, s.last_failure);
    r.detail = "layer: IP over the tailnet (nothing passes: see the icmp result)";
    r.fix = "fix plain reachability first (icmp, ping results)";
    return r;
  }
  r.summary = fmt::format(
      "the path to {} carries at most {} bytes with DF, less than the {} MTU of {} ({})", ip,
      s.largest_ok, interface_mtu, interface_name, s.last_failure);
  r.detail = fmt::format(
      "layer: path MTU (largest passing {}, smallest failing {}, {} echoes; tailscale does not do "
      "PMTUD, so bigger packets are silently lost)",
      s.largest_ok, s.smallest_failed, s.probes_sent);
  r.fix = fmt::format(
      "lower the interface MTU to what passes: ip link set {} mtu {} (on NixOS: "
      "systemd.services.tailscaled.environment.TS_DEBUG_MTU = \"{}\";), or raise the underlay MTU",
      interface_name, s.largest_ok, s.largest_ok);
  return r;
}

Result magicdns_check(const std::string& peer, const std::string& name,
                      const std::string& expected_ip, const std::string& expected_ipv6,
                      const DnsServer& server, std::chrono::milliseconds timeout) {
  Result r = make("magicdns", peer);
  if (name.empty()) {
    r.outcome = Outcome::skip;
    r.summary = "the daemon knows no DNS name for this peer";
    return r;
  }
  std::string shown = name;
  if (!shown.empty() && shown.back() == '.') shown.pop_back();
  // One family: true when `expected` is among the answers, else `r` says what went wrong.
  auto check = [&](const std::string& expected, bool ipv6) {
    Resolution res = resolve_addresses(shown, server, timeout, ipv6);
    if (res.status == Resolution::Status::ok &&
        std::find(res.addresses.begin(), res.addresses.end(), expected) != res.addresses.end())
      return true;
    r.outcome = Outcome::fail;
    const char* rr = ipv6 ? "AAAA" : "A";
    if (res.status == Resolution::Status::ok) {
      std::string got;
      for (const auto& a : res.addresses) got += (got.empty() ? "" : ", ") + a;
      r.summary = fmt::format("{} resolves ({}) to {} via {}, not to its tailnet address {}",
                              shown, rr, got, server.to_string(), expected);
      r.detail = "layer: DNS (a wrong answer: another resolver answers for the tailnet's names)";
      r.fix =
          "make MagicDNS answer: services.resolved.enable = true; and tailscale set "
          "--accept-dns=true; check /etc/resolv.conf or resolvectl status tailscale0 for who "
          "answers";
    } else {
      r.summary = fmt::format("{} does not resolve ({}) via {}: {}", shown, rr,
                              server.to_string(), res.message);
      r.detail = fmt::format("layer: DNS ({})", res.status == Resolution::Status::timeout
                                                    ? "no answer: MagicDNS not reached"
                                                : res.status == Resolution::Status::nxdomain
                                                    ? "the name is unknown there"
                                                : res.status == Resolution::Status::no_answer
                                                    ? "no record of that type"
                                                    : "resolver error");
      r.fix =
          "tailscale set --accept-dns=true; enable MagicDNS in the admin console; on NixOS with "
          "resolved: services.resolved.enable = true;";
    }
    return false;
  };
  if (!check(expected_ip, false)) return r;
  if (!expected_ipv6.empty() && !check(expected_ipv6, true)) return r;
  r.outcome = Outcome::pass;
  r.summary = expected_ipv6.empty()
                  ? fmt::format("{} resolves to {} via {}", shown, expected_ip, server.to_string())
                  : fmt::format("{} resolves to {} and {} via {}", shown, expected_ip,
                                expected_ipv6, server.to_string());
  return r;
}

std::optional<std::string> first_host_in(const std::string& cidr) {
  auto c = parse_cidr(cidr);
  if (!c || c->is_default_route()) return std::nullopt;
  Cidr m = c->masked();
  if (m.v6) {
    if (m.prefix < 127) m.addr[15] |= 1;  // prefix::1
    m.prefix = 128;
    std::string text = m.to_string();
    return text.substr(0, text.find('/'));
  }
  std::uint32_t a = (std::uint32_t(m.addr[0]) << 24) | (std::uint32_t(m.addr[1]) << 16) |
                    (std::uint32_t(m.addr[2]) << 8) | m.addr[3];
  if (m.prefix < 31) a += 1;
  return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

Result subnet_route_check(sys::ProcessRunner& runner, const std::string& router,
                          const std::string& route, const std::string& target,
                          const std::string& interface_name, std::chrono::milliseconds timeout) {
  Result r = make("subnet-route", router);
  RouteLookup rl = route_get(runner, target);
  if (!rl.ok || rl.dev != interface_name || rl.type != "unicast") {
    r.outcome = Outcome::fail;
    r.summary = rl.ok ? fmt::format("{} (in {}) is routed via dev {}{}, not {}", target, route,
                                    rl.dev, rl.via.empty() ? "" : " via " + rl.via, interface_name)
                      : fmt::format("no route to {} (in {}): {}", target, route, rl.error);
    r.detail = "layer: routing on this host (the route offered by " + router + " is not installed)";
    r.fix =
        "on this host: tailscale set --accept-routes (services.tailscale.extraSetFlags = [ "
        "\"--accept-routes\" ];); "
        "on " +
        router + ": tailscale set --advertise-routes=" + route +
        " and approve the route in the admin console";
    return r;
  }
  const bool v6 = target.find(':') != std::string::npos;
  IcmpPinger pinger(v6);
  EchoOutcome last;
  for (int i = 0; i < 2; ++i) {
    last = pinger.echo(target, v6 ? 104 : 84, false, timeout);
    if (last.status == EchoOutcome::Status::reply) break;
  }
  if (last.status == EchoOutcome::Status::reply) {
    r.outcome = Outcome::pass;
    r.summary = fmt::format("{} in {} answers via {}{} in {:.2f} ms", target, route, interface_name,
                            rl.table.empty() ? "" : " (table " + rl.table + ")", last.rtt_ms);
    return r;
  }
  r.outcome = Outcome::fail;
  r.summary = fmt::format("{} in {} is routed via {} but does not answer: {}", target, route,
                          interface_name, last.message);
  r.detail = "layer: the subnet router " + router + " (forwarding, firewall or the LAN behind it)";
  r.fix = "on " + router +
          ": services.tailscale.useRoutingFeatures = \"server\"; (IP forwarding), check "
          "`sysctl " +
          std::string(v6 ? "net.ipv6.conf.all.forwarding" : "net.ipv4.ip_forward") +
          "`, the firewall's FORWARD chain, and that " +
          target +
          " is up on its LAN "
          "(or pass --route-target " +
          route + "=ADDR)";
  return r;
}

Result exit_node_route_check(sys::ProcessRunner& runner, const std::string& exit_node,
                             const std::string& public_address, const std::string& interface_name) {
  const bool v6 = public_address.find(':') != std::string::npos;
  Result r = make(v6 ? "exit-node6" : "exit-node", exit_node);
  RouteLookup rl = route_get(runner, public_address);
  if (rl.ok && rl.dev == interface_name && rl.type == "unicast") {
    r.outcome = Outcome::pass;
    r.summary =
        fmt::format("traffic to the internet ({}) leaves via {}{}", public_address, interface_name,
                    rl.table.empty() ? "" : " (policy table " + rl.table + ")");
    return r;
  }
  r.outcome = Outcome::fail;
  r.summary =
      rl.ok ? fmt::format(
                  "traffic to the internet ({}) leaves via dev {}{}, not {}: the exit node is not "
                  "in the path",
                  public_address, rl.dev, rl.via.empty() ? "" : " via " + rl.via, interface_name)
            : fmt::format("no route to the internet ({}): {}", public_address, rl.error);
  r.detail = fmt::format(
      "layer: routing on this host (tailscale's table 52 {} default route is missing: `ip {}rule` "
      "/ `ip {}route show table 52`)",
      v6 ? "IPv6" : "IPv4", v6 ? "-6 " : "", v6 ? "-6 " : "");
  r.fix = "tailscale set --exit-node=" + exit_node +
          " (services.tailscale.extraSetFlags = [ \"--exit-node=" + exit_node +
          "\" ];); check the exit node offers itself (--advertise-exit-node) and is approved";
  if (v6)
    r.fix +=
        "; IPv4 through the exit node but not IPv6 is the iptables-vs-nftables mismatch: "
        "networking.nftables.enable = true; with systemd.services.tailscaled.environment."
        "TS_DEBUG_FIREWALL_MODE = \"nftables\"; (tsfleet doctor checks it)";
  return r;
}

Result egress_check(const std::string& exit_node, const std::string& url,
                    const std::optional<std::string>& expected, std::chrono::milliseconds timeout) {
  Result r = make("egress", exit_node);
  if (url.rfind("http://", 0) != 0)
    throw Error(ErrorCategory::usage, fmt::format("--egress-url {}: only http:// URLs", url));
  std::string rest = url.substr(7);
  std::size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  std::string path = slash == std::string::npos ? "/" : rest.substr(slash);
  httplib::Client cli("http://" + hostport);
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout).count();
  auto usecs = std::chrono::duration_cast<std::chrono::microseconds>(timeout).count() % 1'000'000;
  cli.set_connection_timeout(secs, usecs);
  cli.set_read_timeout(secs, usecs);
  auto res = cli.Get(path);
  if (!res || res->status != 200) {
    r.outcome = Outcome::fail;
    r.summary = res ? fmt::format("{} answered HTTP {}", url, res->status)
                    : fmt::format("{} did not answer: {}", url, httplib::to_string(res.error()));
    r.detail = "layer: egress through the exit node (the request did not get out)";
    r.fix = "check the exit node forwards and masquerades: on " + exit_node +
            " services.tailscale.useRoutingFeatures = \"server\";";
    return r;
  }
  std::string seen = res->body;
  while (!seen.empty() && (seen.back() == '\n' || seen.back() == '\r' || seen.back() == ' '))
    seen.pop_back();
  if (seen.size() > 64) seen = seen.substr(0, 64) + "...";
  if (!expected) {
    r.outcome = Outcome::warn;
    r.summary =
        fmt::format("the world sees this host as {} (no --egress-expect to compare with)", seen);
    r.fix = "pass --egress-expect ADDR (the exit node's public address)";
  } else if (seen == *expected) {
    r.outcome = Outcome::pass;
    r.summary = fmt::format("the world sees this host as {}, the exit node's address", seen);
  } else {
    r.outcome = Outcome::fail;
    r.summary =
        fmt::format("the world sees this host as {}, not the exit node's {}", seen, *expected);
    r.detail = "layer: egress (traffic leaves through another path than the exit node)";
    r.fix = "tailscale set --exit-node=" + exit_node;
  }
  return r;
}

}  // namespace tsfleet::probe
