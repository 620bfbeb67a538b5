#include "tsfleet/probe/suite.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include "tsfleet/error.h"
#include "tsfleet/probe/checks.h"
#include "tsfleet/probe/netcheck.h"
#include "tsfleet/probe/runner.h"
#include "tsfleet/suggest.h"

namespace tsfleet::probe {

namespace {

const std::vector<std::pair<ProbeKind, std::string_view>>& kind_names() {
  static const std::vector<std::pair<ProbeKind, std::string_view>> names = {
      {ProbeKind::ping, "ping"},         {ProbeKind::icmp, "icmp"},
      {ProbeKind::mtu, "mtu"},           {ProbeKind::dns, "dns"},
      {ProbeKind::route, "route"},       {ProbeKind::exit_node, "exit-node"},
      {ProbeKind::netcheck, "netcheck"}, {ProbeKind::throughput, "throughput"}};
  return names;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string tailnet_name(const HostPlan& p) {
  return p.prefs.hostname.empty() ? p.name : p.prefs.hostname;
}

const localapi::PeerStatus* find_peer(const localapi::Status& st, const HostPlan& p) {
  std::string want = lower(tailnet_name(p));
  for (const auto& [key, peer] : st.peer) {
    std::string first = lower(peer.dns_name.substr(0, peer.dns_name.find('.')));
    if (lower(peer.host_name) == want || first == want) return &peer;
  }
  return nullptr;
}

std::string ipv4_of(const localapi::PeerStatus& p) {
  for (const auto& ip : p.tailscale_ips)
    if (ip.find(':') == std::string::npos) return ip;
  return p.tailscale_ips.empty() ? std::string() : p.tailscale_ips.front();
}

// The peer's IPv6 tailnet address (fd7a:115c:a1e0::/48), "" when it has none.
std::string ipv6_of(const localapi::PeerStatus& p) {
  for (const auto& ip : p.tailscale_ips)
    if (ip.find(':') != std::string::npos) return ip;
  return {};
}

std::optional<int> read_sys_mtu(const std::string& iface) {
  std::ifstream f("/sys/class/net/" + iface + "/mtu");
  int v = 0;
  if (f >> v && v > 0) return v;
  return std::nullopt;
}

bool relayed(PathKind k) { return k == PathKind::derp || k == PathKind::peer_relay; }

}  // namespace

std::string_view to_string(ProbeKind k) noexcept {
  for (const auto& [kind, name] : kind_names())
    if (kind == k) return name;
  return "?";
}

ProbeKind parse_probe_kind(std::string_view text) {
  std::vector<std::string> all;
  for (const auto& [kind, name] : kind_names()) {
    if (name == text) return kind;
    all.emplace_back(name);
  }
  auto near = closest_match(text, all);
  std::string list;
  for (const auto& n : all) list += (list.empty() ? "" : ", ") + n;
  throw Error(ErrorCategory::usage,
              fmt::format("--probe {}: unknown probe{} (known: {})", text,
                          near ? fmt::format("; did you mean {}?", *near) : "", list));
}

NetcheckMethod parse_netcheck_method(std::string_view text) {
  if (text == "auto") return NetcheckMethod::automatic;
  if (text == "cli") return NetcheckMethod::cli;
  if (text == "stun") return NetcheckMethod::stun;
  throw Error(ErrorCategory::usage,
              fmt::format("--netcheck {}: want auto, cli (the tailscale CLI) or stun (built in)",
                          text));
}

int exit_code_for(const std::vector<Result>& results, const std::vector<PeerPath>& paths) {
  for (const auto& p : paths)
    if (p.path == PathKind::unreachable) return test_exit::some_unreachable;
  for (const auto& r : results) {
    if (r.outcome != Outcome::fail) continue;
    if (r.check == "ping") {
      // A relayed router fails its expectation but is reported as "relayed" (10), not "other" (1).
      bool is_relayed = false;
      for (const auto& p : paths)
        if (p.peer == r.subject.host && relayed(p.path)) is_relayed = true;
      if (is_relayed) continue;
    }
    return test_exit::failures;
  }
  for (const auto& p : paths)
    if (relayed(p.path)) return test_exit::some_relayed;
  return test_exit::all_direct;
}

SuiteReport run_suite(const std::vector<HostPlan>& plans, const HostPlan& self,
                      const SuiteOptions& o, const SuiteEnv& env) {
  SuiteReport report;
  report.host = self.name;
  auto api = env.api();
  localapi::Status st = api->status();
  if (st.backend_state != localapi::BackendState::running)
    throw Error(
        ErrorCategory::daemon,
        fmt::format("tailscaled is {} here, not Running: nothing can be probed (bring it up: "
                    "`tsfleet up` or "
                    "`tailscale up`)",
                    st.backend_state_text.empty() ? "in an unknown state" : st.backend_state_text));

  std::set<ProbeKind> kinds = o.kinds;
  const bool default_kinds = kinds.empty();
  if (default_kinds)
    kinds = {ProbeKind::ping, ProbeKind::icmp,  ProbeKind::mtu,
             ProbeKind::dns,  ProbeKind::route, ProbeKind::exit_node};
  const std::string iface = o.interface_name.empty() ? self.interface_name : o.interface_name;
  int mtu = o.interface_mtu;
  if (mtu <= 0)
    mtu = (env.interface_mtu ? env.interface_mtu(iface) : read_sys_mtu(iface)).value_or(1280);

  std::vector<std::string> names;
  for (const auto& p : plans) names.push_back(p.name);
  for (const auto& want : o.peers) {
    if (want == self.name)
      throw Error(ErrorCategory::usage,
                  fmt::format("--peer {}: that is this host; name another fleet host", want));
    if (std::find(names.begin(), names.end(), want) == names.end()) {
      auto near = closest_match(want, names);
      throw Error(ErrorCategory::usage,
                  fmt::format("--peer {}: not a host in the fleet{}", want,
                              near ? fmt::format(" (did you mean {}?)", *near) : ""));
    }
  }
  auto selected = [&](const HostPlan& p) {
    return p.name != self.name &&
           (o.peers.empty() || std::find(o.peers.begin(), o.peers.end(), p.name) != o.peers.end());
  };

  std::vector<ProbeTask> tasks;
  std::vector<Result> fixed;  // results known without probing
  std::vector<std::unique_ptr<PeerPath>> paths;
  PingOptions ping = o.ping;
  ping.deadline = o.probe_timeout;
  const auto dns_timeout = std::min(o.probe_timeout, std::chrono::milliseconds(3000));

  const bool per_peer = kinds.count(ProbeKind::ping) || kinds.count(ProbeKind::icmp) ||
                        kinds.count(ProbeKind::mtu) || kinds.count(ProbeKind::dns);
  for (const auto& p : plans) {
    if (!selected(p) || !per_peer) continue;
    const localapi::PeerStatus* peer = find_peer(st, p);
    if (!peer) {
      Result r;
      r.check = "ping";
      r.subject.host = p.name;
      r.outcome = Outcome::fail;
      r.summary = fmt::format("the daemon knows no peer named {}: it is not in this tailnet",
                              tailnet_name(p));
      r.detail = "layer: tailnet membership";
      r.fix =
          "on " + p.name +
          ": tsfleet up (or tailscale up with the fleet's flags); check `tailscale status` here";
      fixed.push_back(r);
      paths.push_back(
          std::make_unique<PeerPath>(PeerPath{p.name, "", PathKind::unreachable, "", 0}));
      continue;
    }
    const std::string ip = ipv4_of(*peer);
    if (!peer->online) {
      Result r;
      r.check = "ping";
      r.subject.host = p.name;
      r.outcome = Outcome::fail;
      r.summary =
          fmt::format("{} ({}) is offline according to the coordination server", p.name, ip);
      r.detail = "layer: the peer (tailscaled not connected to control)";
      r.fix = "on " + p.name + ": systemctl status tailscaled; tailscale status";
      fixed.push_back(r);
      paths.push_back(
          std::make_unique<PeerPath>(PeerPath{p.name, ip, PathKind::unreachable, "", 0}));
      continue;
    }
    if (kinds.count(ProbeKind::ping)) {
      paths.push_back(
          std::make_unique<PeerPath>(PeerPath{p.name, ip, PathKind::unreachable, "", 0}));
      PeerPath* slot = paths.back().get();
      bool expect_direct = p.expect.reachable_directly;
      tasks.push_back({"ping " + p.name, [&env, ping, slot, ip, expect_direct, name = p.name] {
                         auto api = env.api();
                         PingOutcome out = tailscale_ping(*api, ip, ping);
                         slot->path = out.path;
                         slot->via = out.via;
                         slot->latency_ms = out.latency_ms;
                         return ping_result(name, ip, out, expect_direct);
                       }});
    }
    if (kinds.count(ProbeKind::icmp)) {
      tasks.push_back({"icmp " + p.name, [ip, name = p.name, t = o.echo_timeout] {
                         return icmp_check(name, ip, 3, t);
                       }});
      if (std::string ip6 = ipv6_of(*peer); !ip6.empty())
        tasks.push_back({"icmp6 " + p.name, [ip6, name = p.name, t = o.echo_timeout] {
                           return icmp_check(name, ip6, 3, t);
                         }});
    }
    if (kinds.count(ProbeKind::mtu))
      tasks.push_back({"mtu " + p.name, [ip, name = p.name, mtu, iface, t = o.echo_timeout] {
                         return mtu_check(name, ip, mtu, iface, t);
                       }});
    if (kinds.count(ProbeKind::dns))
      tasks.push_back(
          {"dns " + p.name, [ip, ip6 = ipv6_of(*peer), name = p.name, dns = peer->dns_name,
                             server = o.dns, dns_timeout] {
             return magicdns_check(name, dns, ip, ip6, server, dns_timeout);
           }});
  }

  if (kinds.count(ProbeKind::route) && self.expect.accepts_routes) {
    for (const auto& p : plans) {
      if (!selected(p)) continue;
      for (const auto& route : p.expect.offered_routes) {
        auto it = o.route_targets.find(route);
        std::optional<std::string> target =
            it != o.route_targets.end() ? std::optional(it->second) : first_host_in(route);
        if (!target) {
          Result r;
          r.check = "subnet-route";
          r.subject.host = p.name;
          r.outcome = Outcome::skip;
          r.summary = fmt::format("{}: no address to probe inside it (give --route-target {}=ADDR)",
                                  route, route);
          fixed.push_back(r);
          continue;
        }
        tasks.push_back({"route " + route,
                         [&env, router = p.name, route, t = *target, iface, to = o.echo_timeout] {
                           return subnet_route_check(*env.runner, router, route, t, iface, to);
                         }});
      }
    }
  }
  if (kinds.count(ProbeKind::exit_node) && self.expect.uses_exit_node) {
    const std::string exit = *self.expect.uses_exit_node;
    tasks.push_back({"exit-node " + exit, [&env, exit, addr = o.exit_probe_address, iface] {
                       return exit_node_route_check(*env.runner, exit, addr, iface);
                     }});
    if (!o.exit_probe_address6.empty())
      tasks.push_back({"exit-node6 " + exit, [&env, exit, addr = o.exit_probe_address6, iface] {
                         return exit_node_route_check(*env.runner, exit, addr, iface);
                       }});
    if (o.egress_url)
      tasks.push_back(
          {"egress " + exit, [exit, url = *o.egress_url, expect = o.egress_expect,
                              t = o.probe_timeout] { return egress_check(exit, url, expect, t); }});
  }

  report.results = fixed;
  auto probed = run_concurrently(std::move(tasks), o.jobs, env.progress);
  report.results.insert(report.results.end(), probed.begin(), probed.end());
  for (const auto& p : paths) report.paths.push_back(*p);

  // netcheck: asked for, or (by default) to explain relayed peers. By the tailscale CLI when it
  // is here (it checks port mapping too), else by our own STUN to the daemon's DERP map.
  std::vector<std::string> relayed_peers;
  for (const auto& p : report.paths)
    if (relayed(p.path)) relayed_peers.push_back(p.peer);
  bool want_netcheck = kinds.count(ProbeKind::netcheck) || (default_kinds && !relayed_peers.empty());
  if (want_netcheck) {
    const bool by_cli = o.netcheck == NetcheckMethod::cli ||
                        (o.netcheck == NetcheckMethod::automatic &&
                         sys::program_on_path(o.tailscale_cli));
    try {
      NetcheckReport rep;
      if (by_cli) {
        rep = run_netcheck(*env.runner, o.tailscale_cli, o.socket, o.probe_timeout);
      } else {
        auto api = env.api();
        auto targets = stun_targets(api->derp_map());
        if (targets.empty())
          throw Error(ErrorCategory::daemon,
                      "the daemon's DERP map (GET /localapi/v0/derpmap) lists no STUN server (no "
                      "regions, or STUNPort -1 on every node): nothing to send STUN to");
        StunOptions so;
        so.timeout = std::min(o.stun_timeout, o.probe_timeout);
        rep = stun_netcheck(targets, so);
      }
      Result r = netcheck_result(rep, relayed_peers);
      r.subject.host = self.name;
      report.results.push_back(r);
    } catch (const Error& e) {
      Result r;
      r.check = "netcheck";
      r.subject.host = self.name;
      r.outcome = kinds.count(ProbeKind::netcheck) ? Outcome::fail : Outcome::skip;
      r.summary = e.what();
      if (by_cli) {
        r.detail = "layer: the tailscale CLI";
        r.fix =
            "install the tailscale CLI (services.tailscale.enable puts it on PATH), pass "
            "--tailscale PATH, or use --netcheck stun";
      } else {
        r.detail = "layer: the daemon's DERP map (GET /localapi/v0/derpmap) or a UDP socket";
        r.fix = "check that tailscaled is running and logged in (tsfleet status), or use "
                "--netcheck cli";
      }
      report.results.push_back(r);
    }
  }

  // Throughput runs alone, after everything else, so it does not share the link.
  if (o.throughput_peer) {
    std::string peer_name = *o.throughput_peer, address = *o.throughput_peer;
    for (const auto& p : plans)
      if (p.name == *o.throughput_peer)
        if (const auto* peer = find_peer(st, p)) address = ipv4_of(*peer);
    try {
      auto m = measure_throughput(address, o.throughput_port, o.throughput);
      report.results.push_back(throughput_result(peer_name, address, m));
    } catch (const Error& e) {
      Result r;
      r.check = "throughput";
      r.subject.host = peer_name;
      r.outcome = Outcome::fail;
      r.summary = e.what();
      r.detail = "layer: TCP to the probe server";
      r.fix = fmt::format(
          "run `tsfleet probe-server --port {}` on {} and allow the port on its tailscale "
          "interface",
          o.throughput_port, peer_name);
      report.results.push_back(r);
    }
  }

  report.exit_code = exit_code_for(report.results, report.paths);
  return report;
}

nlohmann::json render_suite_json(const SuiteReport& report) {
  nlohmann::json j = render_results_json(report.results);
  j["host"] = report.host;
  j["exit_code"] = report.exit_code;
  nlohmann::json peers = nlohmann::json::array();
  for (const auto& p : report.paths) {
    nlohmann::json e = {{"peer", p.peer}, {"ip", p.ip}, {"path", to_string(p.path)}};
    if (!p.via.empty()) e["via"] = p.via;
    if (p.path != PathKind::unreachable) e["latency_ms"] = p.latency_ms;
    peers.push_back(e);
  }
  j["peers"] = peers;
  return j;
}

std::string render_suite_text(const SuiteReport& report, bool colour) {
  std::string out;
  if (!report.paths.empty()) {
    std::size_t w = 4;
    for (const auto& p : report.paths) w = std::max(w, p.peer.size());
    out += fmt::format("{:<{}}  {:<15}  {:<11}  {:<24}  {}\n", "PEER", w, "ADDRESS", "PATH", "VIA",
                       "LATENCY");
    for (const auto& p : report.paths)
      out += fmt::format(
          "{:<{}}  {:<15}  {:<11}  {:<24}  {}\n", p.peer, w, p.ip.empty() ? "-" : p.ip,
          to_string(p.path), p.via.empty() ? "-" : p.via,
          p.path == PathKind::unreachable ? "-" : fmt::format("{:.0f} ms", p.latency_ms));
    out += "\n";
  }
  out += render_results_text(report.results, colour);
  return out;
}

}  // namespace tsfleet::probe
