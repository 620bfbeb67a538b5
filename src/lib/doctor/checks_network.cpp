// Checks about this host's networking: the TUN device, forwarding, the reverse-path filter,
// the firewall (backend, trust, the UDP port), direct paths and DNS.
#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "checks.h"
#include "checks_support.h"

namespace tsfleet::doctor::detail {

std::vector<Result> check_tun_interface(DoctorContext& c) {
  const char* id = "tun-interface";
  bool userspace = false;
  std::string iface = interface_name(c, &userspace);
  if (userspace)
    return {make(c, id, Outcome::skip, "tailscaled",
                 "tailscaled runs with userspace networking: there is no TUN device")};
  std::string path = "/sys/class/net/" + iface;
  if (c.fs->exists(path))
    return {make(c, id, Outcome::pass, path, fmt::format("the interface {} exists", iface))};
  bool up = daemon_up(c);
  return {make(c, id, up ? Outcome::fail : Outcome::warn, path,
               fmt::format("there is no network interface {}{}", iface,
                           up ? ": tailscaled runs but could not create its TUN device"
                              : " (expected while tailscaled is not running)"),
               fmt::format("services.tailscale.interfaceName = \"{}\";\n"
                           "boot.kernelModules = [ \"tun\" ];\n"
                           "# now: sudo modprobe tun && sudo systemctl restart tailscaled",
                           iface))};
}

std::vector<Result> check_ip_forwarding(DoctorContext& c) {
  const char* id = "ip-forwarding";
  Usage u = usage(c);
  const std::string v4 = "/proc/sys/net/ipv4/ip_forward",
                    v6 = "/proc/sys/net/ipv6/conf/all/forwarding";
  if (!u.router()) {
    bool known = daemon_up(c) || c.plan;
    return {
        make(c, id, Outcome::skip, v4,
             known ? "this host offers no subnet routes and no exit node: forwarding is not needed"
                   : "the role is unknown (tailscaled did not answer and the host is not in a "
                     "fleet file)")};
  }
  auto f4 = read_int(c, v4), f6 = read_int(c, v6);
  std::vector<std::string> bad;
  if (f4 && *f4 != 1) bad.push_back(fmt::format("net.ipv4.ip_forward is {}", *f4));
  if (f6 && *f6 != 1) bad.push_back(fmt::format("net.ipv6.conf.all.forwarding is {}", *f6));
  const auto& w = c.daemon.ip_forwarding_warning;
  if (w && !w->empty()) bad.push_back("tailscaled: " + *w);
  std::string what = u.offers_exit_node && u.offers_routes ? "subnet routes and an exit node"
                     : u.offers_exit_node                  ? "an exit node"
                                                           : "subnet routes";
  if (!bad.empty())
    return {
        make(c, id, Outcome::fail, v4,
             fmt::format("this host offers {} (by {}) but {}: forwarded traffic is dropped", what,
                         u.offers_why, join(bad, "; ")),
             fmt::format(
                 "services.tailscale.useRoutingFeatures = \"{}\";  # sets both forwarding sysctls\n"
                 "# now: sudo sysctl -w net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1",
                 routing_features_value(u)))};
  if (!f4 && !f6 && !w)
    return {make(c, id, Outcome::skip, v4, fmt::format("cannot read {} or {}", v4, v6))};
  return {make(
      c, id, Outcome::pass, v4,
      fmt::format("forwarding is on for this host's {} (IPv4{})", what, f6 ? " and IPv6" : ""))};
}

std::vector<Result> check_rp_filter(DoctorContext& c) {
  const char* id = "rp-filter";
  Usage u = usage(c);
  std::string iface = interface_name(c);
  auto path = [](const std::string& conf) {
    return "/proc/sys/net/ipv4/conf/" + conf + "/rp_filter";
  };
  if (!u.client()) {
    bool known = daemon_up(c) || c.plan;
    return {make(c, id, Outcome::skip, path("all"),
                 known ? "this host uses no exit node and accepts no routes: the reverse-path "
                         "filter does not get in the way"
                       : "the role is unknown (tailscaled did not answer and the host is not in a "
                         "fleet file)")};
  }
  auto all = read_int(c, path("all"));
  bool has_iface = c.fs->exists("/proc/sys/net/ipv4/conf/" + iface);
  std::string other = has_iface ? iface : "default";
  auto per = read_int(c, path(other));
  std::vector<std::string> bad;
  std::string subject = path("all");
  // The kernel applies the larger of conf/all and conf/<interface>.
  long long eff = std::max(all.value_or(0), per.value_or(0));
  if ((all || per) && eff == 1) {
    if (per && *per == 1) subject = path(other);
    bad.push_back(fmt::format("rp_filter is strict (all={}, {}={})",
                              all ? std::to_string(*all) : "?", other,
                              per ? std::to_string(*per) : "?"));
  }
  std::string src;
  auto rs = ruleset(c, &src);
  if (rs && rs->rpfilter == std::string("strict")) {
    if (bad.empty()) subject = src;
    bad.push_back("the NixOS firewall's reverse-path check is strict (" + src + ")");
  }
  std::string why = u.uses_exit_node && u.accepts_routes ? "uses an exit node and accepts routes"
                    : u.uses_exit_node                   ? "uses an exit node"
                                                         : "accepts subnet routes";
  if (!bad.empty())
    return {
        make(c, id, Outcome::fail, subject,
             fmt::format(
                 "this host {} (by {}) but {}: replies through the tailnet are dropped as spoofed, "
                 "so there is no internet via the exit node",
                 why, u.uses_why, join(bad, "; ")),
             fmt::format(
                 "networking.firewall.checkReversePath = \"loose\";\n"
                 "services.tailscale.useRoutingFeatures = \"{}\";\n"
                 "# now: sudo sysctl -w net.ipv4.conf.all.rp_filter=2 net.ipv4.conf.{}.rp_filter=2",
                 routing_features_value(u), iface))};
  if (!all && !per && !rs)
    return {make(c, id, Outcome::skip, subject, "cannot read rp_filter or the firewall ruleset")};
  return {make(
      c, id, Outcome::pass, subject,
      fmt::format("this host {}; the reverse-path filter is loose or off (all={}, {}={}{})", why,
                  all ? std::to_string(*all) : "?", other, per ? std::to_string(*per) : "?",
                  rs && rs->rpfilter ? ", firewall " + *rs->rpfilter : ""))};
}

std::vector<Result> check_firewall_mode(DoctorContext& c) {
  const char* id = "firewall-mode";
  std::vector<std::string> evidence;
  if (c.plan && c.plan->nftables) evidence.push_back("the fleet file sets nftables");
  for (const char* f : {"/etc/systemd/system/nftables.service", "/etc/nftables.conf"})
    if (c.fs->exists(f)) evidence.push_back(f);
  std::string src;
  auto rs = ruleset(c, &src);
  if (rs && rs->nftables && rs->nixos_fw) evidence.push_back("the nixos-fw table in " + src);
  if (evidence.empty())
    return {make(c, id, Outcome::pass, "/etc/systemd/system/nftables.service",
                 "no sign of networking.nftables: the firewall uses iptables, as tailscaled does "
                 "by default")};

  std::optional<std::string> mode;
  std::string from;
  if (const auto& p = daemon_process(c); p && p->environ) {
    from = fmt::format("/proc/{}/environ", p->pid);
    if (auto it = p->environ->find("TS_DEBUG_FIREWALL_MODE"); it != p->environ->end())
      mode = it->second;
  } else {
    std::vector<std::string> files;
    auto env = unit_environment(c, &files);
    if (!files.empty()) {
      from = join(files, ", ");
      if (auto it = env.find("TS_DEBUG_FIREWALL_MODE"); it != env.end()) mode = it->second;
    }
  }
  if (!mode && c.daemon.prefs && c.daemon.prefs->netfilter_kind == "nftables") {
    mode = "nftables";
    from = "the daemon's prefs (NetfilterKind)";
  }
  if (from.empty())
    return {make(c, id, Outcome::skip, "tailscaled",
                 fmt::format("nftables is in use ({}), but tailscaled's environment is unknown: "
                             "/proc/<pid>/environ needs root "
                             "and there is no tailscaled unit file",
                             join(evidence, ", ")))};
  if (mode && (*mode == "nftables" || *mode == "auto"))
    return {make(
        c, id, Outcome::pass, from,
        fmt::format("nftables is in use and tailscaled has TS_DEBUG_FIREWALL_MODE={}", *mode))};
  Usage u = usage(c);
  bool exit = u.uses_exit_node || u.offers_exit_node;
  return {make(
      c, id, exit ? Outcome::fail : Outcome::warn, from,
      fmt::format("nftables is in use ({}) but tailscaled {} (in {}), so it programs iptables: "
                  "IPv6 through exit "
                  "nodes breaks (nixpkgs#285676){}",
                  join(evidence, ", "),
                  mode ? "has TS_DEBUG_FIREWALL_MODE=" + *mode : "lacks TS_DEBUG_FIREWALL_MODE",
                  from, exit ? ", and this host uses or offers an exit node" : ""),
      "systemd.services.tailscaled.environment.TS_DEBUG_FIREWALL_MODE = \"nftables\";\n"
      "# then: sudo nixos-rebuild switch (tailscaled restarts with it)")};
}

std::vector<Result> check_firewall_trust(DoctorContext& c) {
  const char* id = "firewall-trust";
  std::string iface = interface_name(c);
  std::string src;
  auto rs = ruleset(c, &src);
  if (!rs)
    return {make(
        c, id, Outcome::skip, c.live ? "iptables-save" : "/.tsfleet/iptables-save.txt",
        c.live ? "cannot read the firewall ruleset: run doctor as root (it reads `iptables-save` "
                 "and `nft list ruleset`)"
               : "the snapshot has no /.tsfleet/iptables-save.txt or /.tsfleet/nft-ruleset.txt")};
  const std::string trust =
      fmt::format("networking.firewall.trustedInterfaces = [ \"{}\" ];", iface);
  auto in = [&](const std::vector<std::string>& v) {
    return std::find(v.begin(), v.end(), iface) != v.end();
  };
  if (!rs->nixos_fw)
    return {make(c, id, Outcome::warn, src,
                 "the NixOS firewall is not loaded (networking.firewall.enable = false?)",
                 "networking.firewall.enable = true;  # never disable it\n" + trust)};
  if (in(rs->nixos_trusted))
    return {make(c, id, Outcome::pass, src,
                 fmt::format("{} is a trusted interface of the NixOS firewall: tailnet ACLs decide "
                             "what reaches this host",
                             iface))};
  if (in(rs->ts_accept_all))
    return {make(c, id, Outcome::warn, src,
                 fmt::format("tailscale's ts-input chain accepts every packet on {} before the "
                             "NixOS firewall sees it "
                             "(tailscale >= 1.52): networking.firewall rules do not apply to "
                             "tailnet traffic, and the "
                             "configuration does not say so",
                             iface),
                 "# say so (tailnet ACLs decide):\n" + trust +
                     "\n# or keep the NixOS firewall in charge of tailnet traffic:\n"
                     "services.tailscale.extraSetFlags = [ \"--netfilter-mode=nodivert\" ];")};
  if (c.daemon.prefs && c.daemon.prefs->netfilter_mode != localapi::NetfilterMode::on)
    return {make(c, id, Outcome::pass, src,
                 fmt::format("netfilter-mode is {}: the NixOS firewall filters tailnet traffic "
                             "(only its allowed ports reach this host)",
                             to_string(c.daemon.prefs->netfilter_mode)))};
  if (rs->nftables)
    return {make(
        c, id, Outcome::fail, src,
        fmt::format(
            "the nftables NixOS firewall drops packets on {} before tailscale's rules accept them "
            "(nixpkgs#490273): peers cannot reach this host",
            iface),
        trust)};
  return {make(c, id, Outcome::warn, src,
               fmt::format("{} is not trusted and tailscale does not accept its traffic: only the "
                           "ports networking.firewall "
                           "allows reach this host from the tailnet",
                           iface),
               trust)};
}

namespace {

struct Holder {
  int pid = 0;
  std::string comm;
};

// Which processes hold these socket inodes (needs to see their /proc/<pid>/fd: root for others').
std::map<std::uint64_t, Holder> socket_holders(const DoctorContext& c,
                                               const std::set<std::uint64_t>& inodes) {
  std::map<std::uint64_t, Holder> out;
  int scanned = 0;
  for (const auto& name : c.fs->list_dir("/proc")) {
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos ||
        name.size() > 9)
      continue;
    if (++scanned > 65536 || out.size() == inodes.size()) break;
    std::string fd_dir = "/proc/" + name + "/fd";
    for (const auto& fd : c.fs->list_dir(fd_dir)) {
      auto target = c.fs->read_link(fd_dir + "/" + fd);
      if (!target || target->rfind("socket:[", 0) != 0 || target->back() != ']') continue;
      auto ino = parse_sysctl_int(target->substr(8, target->size() - 9));
      if (!ino || *ino < 0 || !inodes.count(static_cast<std::uint64_t>(*ino))) continue;
      Holder h{std::stoi(name), ""};
      if (auto comm = read_text(c, "/proc/" + name + "/comm")) h.comm = parse_hostname(*comm);
      out[static_cast<std::uint64_t>(*ino)] = h;
    }
  }
  return out;
}

bool port_allowed(const RulesetHints& h, int port) {
  return std::any_of(h.nixos_allowed_udp.begin(), h.nixos_allowed_udp.end(),
                     [&](const auto& r) { return r.first <= port && port <= r.second; });
}

}  // namespace

std::vector<Result> check_udp_port(DoctorContext& c) {
  const char* id = "udp-port";
  int port = 41641;
  std::string port_from = "the default";
  const auto& proc = daemon_process(c);
  if (c.plan) {
    port = c.plan->port;
    port_from = "the fleet file";
  } else if (auto f = proc ? flag_value(proc->argv, "port") : std::nullopt) {
    if (auto n = parse_sysctl_int(*f); n && *n >= 0 && *n <= 65535) {
      port = static_cast<int>(*n);
      port_from = "tailscaled's --port";
    }
  } else {
    auto env = unit_environment(c, nullptr);
    if (auto it = env.find("PORT"); it != env.end())
      if (auto n = parse_sysctl_int(it->second); n && *n >= 0 && *n <= 65535) {
        port = static_cast<int>(*n);
        port_from = "the tailscaled unit's PORT";
      }
  }
  if (port == 0)
    return {make(c, id, Outcome::skip, "/proc/net/udp",
                 "services.tailscale.port is 0: tailscaled picks a random port (direct paths "
                 "depend on NAT traversal)")};
  auto t4 = read_text(c, "/proc/net/udp"), t6 = read_text(c, "/proc/net/udp6");
  if (!t4 && !t6)
    return {
        make(c, id, Outcome::skip, "/proc/net/udp", "cannot read /proc/net/udp or /proc/net/udp6")};
  std::vector<UdpSocket> socks;
  for (auto [text, v6] : {std::pair{&t4, false}, std::pair{&t6, true}})
    if (*text)
      for (auto& s : parse_proc_net_udp(**text, v6))
        if (s.local_port == port) socks.push_back(s);
  const std::string move_port = fmt::format(
      "services.tailscale.port = {};  # a free port; or stop what holds {}\n"
      "# see who: sudo ss -ulpn 'sport = :{}'",
      port == 65535 ? port - 1 : port + 1, port, port);
  bool tailscaled_runs = proc.has_value() || daemon_up(c);
  if (socks.empty()) {
    if (daemon_up(c))
      return {make(c, id, Outcome::warn, "/proc/net/udp",
                   fmt::format("nothing is bound to UDP {} ({}), although tailscaled runs: it "
                               "listens on another port",
                               port, port_from),
                   fmt::format("services.tailscale.port = {};", port))};
    return {make(c, id, Outcome::pass, "/proc/net/udp",
                 fmt::format("UDP {} is free for tailscaled", port))};
  }
  std::set<std::uint64_t> inodes;
  for (const auto& s : socks) inodes.insert(s.inode);
  auto holders = socket_holders(c, inodes);
  std::vector<std::string> others;
  bool by_tailscaled = false, unknown_root = false;
  std::uint32_t unknown_uid = 0;
  bool unknown_other = false;
  for (const auto& s : socks) {
    auto it = holders.find(s.inode);
    if (it != holders.end()) {
      if (it->second.comm == "tailscaled" || (proc && it->second.pid == proc->pid))
        by_tailscaled = true;
      else
        others.push_back(fmt::format("{} (pid {}, {}:{})",
                                     it->second.comm.empty() ? "?" : it->second.comm,
                                     it->second.pid, s.local_address, port));
    } else if (s.uid == 0) {
      unknown_root = true;
    } else {
      unknown_other = true;
      unknown_uid = s.uid;
    }
  }
  if (!others.empty())
    return {make(c, id, Outcome::fail, "/proc/net/udp",
                 fmt::format("UDP {} is held by {}: tailscaled cannot use its port, so peers fall "
                             "back to DERP relays "
                             "(or tailscaled does not start)",
                             port, join(others, ", ")),
                 move_port)};
  if (!by_tailscaled && unknown_other)
    return {make(
        c, id, tailscaled_runs ? Outcome::warn : Outcome::fail, "/proc/net/udp",
        fmt::format("UDP {} is held by a process of uid {}, not tailscaled (which runs as root)",
                    port, unknown_uid),
        move_port)};
  if (!by_tailscaled && unknown_root && !tailscaled_runs)
    return {make(c, id, Outcome::fail, "/proc/net/udp",
                 fmt::format("UDP {} is held by a root process while tailscaled is not running: it "
                             "cannot bind its port",
                             port),
                 move_port)};
  std::string who = by_tailscaled
                        ? "tailscaled"
                        : "a root process (tailscaled, most likely; run as root to be sure)";
  std::string src;
  auto rs = ruleset(c, &src);
  if (rs && rs->nixos_fw && !port_allowed(*rs, port))
    return {make(c, id, Outcome::warn, src,
                 fmt::format("{} holds UDP {}, but the NixOS firewall does not open it: peers "
                             "behind NAT may only reach "
                             "this host through DERP relays",
                             who, port),
                 fmt::format("services.tailscale.openFirewall = true;  # opens UDP {}", port))};
  return {make(c, id, Outcome::pass, "/proc/net/udp",
               fmt::format("{} holds UDP {}{}", who, port,
                           rs && rs->nixos_fw ? " and the NixOS firewall opens it" : ""))};
}

std::vector<Result> check_direct_paths(DoctorContext& c) {
  const char* id = "direct-paths";
  if (!daemon_up(c)) return {daemon_skip(c, id)};
  std::vector<std::string> relayed;
  int active = 0;
  for (const auto& [key, p] : c.daemon.status->peer) {
    if (!p.online || !p.active) continue;
    ++active;
    if (p.cur_addr.empty() && p.peer_relay.empty())
      relayed.push_back(fmt::format("{} (DERP {})", p.host_name.empty() ? p.dns_name : p.host_name,
                                    p.relay.empty() ? "?" : p.relay));
  }
  if (active == 0)
    return {make(c, id, Outcome::skip, "tailscaled",
                 "no peer has exchanged traffic recently; `tailscale ping HOST` makes a path, then "
                 "run doctor again")};
  if (relayed.empty())
    return {make(
        c, id, Outcome::pass, "tailscaled",
        fmt::format("all {} active peer(s) are reached directly (or via a peer relay)", active))};
  int port = c.plan ? c.plan->port : 41641;
  return {make(
      c, id, Outcome::warn, "tailscaled",
      fmt::format("{} of {} active peer(s) go through DERP relays, not direct: {}", relayed.size(),
                  active, join(relayed, ", ")),
      fmt::format("services.tailscale.openFirewall = true;  # UDP {}\n"
                  "# and forward UDP {} on the router to this host (or enable UPnP / NAT-PMP)\n"
                  "# see why: tailscale netcheck; tailscale ping --verbose HOST",
                  port, port))};
}

std::vector<Result> check_magicdns(DoctorContext& c) {
  const char* id = "magicdns";
  if (!daemon_up(c)) return {daemon_skip(c, id)};
  if (!c.daemon.prefs)
    return {make(c, id, Outcome::skip, "tailscaled", "the daemon's prefs could not be read")};
  const auto& s = *c.daemon.status;
  std::string suffix = s.current_tailnet ? s.current_tailnet->magic_dns_suffix : s.magic_dns_suffix;
  std::string names = suffix.empty() ? "tailnet" : "*." + suffix;
  if (!c.daemon.prefs->corp_dns) {
    if (c.plan && !c.plan->prefs.accept_dns)
      return {make(
          c, id, Outcome::pass, "tailscaled",
          "accept-dns is off, as the fleet file says: names resolve through this host's own DNS")};
    return {make(
        c, id, Outcome::warn, "tailscaled",
        fmt::format(
            "accept-dns is off: tailscaled does not set up MagicDNS, so {} names do not resolve",
            names),
        "services.tailscale.extraSetFlags = [ \"--accept-dns=true\" ];\n# now: sudo tailscale set "
        "--accept-dns=true")};
  }
  bool magic = s.current_tailnet ? s.current_tailnet->magic_dns_enabled : !suffix.empty();
  if (!magic)
    return {make(c, id, Outcome::skip, "tailscaled",
                 "MagicDNS is off for this tailnet (the admin console's DNS page)")};
  const std::string path = "/etc/resolv.conf";
  const std::string resolved_fix =
      "services.resolved.enable = true;  # tailscale then sets DNS for its interface in resolved\n"
      "# now: sudo nixos-rebuild switch && sudo systemctl restart tailscaled";
  auto text = read_text(c, path);
  if (!text)
    return {make(c, id, Outcome::fail, path,
                 fmt::format("there is no {}: {} names do not resolve", path, names),
                 resolved_fix)};
  ResolvConf rc = parse_resolv_conf(*text);
  auto has = [&](const char* ns) {
    return std::find(rc.nameservers.begin(), rc.nameservers.end(), ns) != rc.nameservers.end();
  };
  if (has("100.100.100.100"))
    return {make(c, id, Outcome::pass, path,
                 "/etc/resolv.conf sends queries to MagicDNS (100.100.100.100)")};
  if (has("127.0.0.53") || has("127.0.0.54")) {
    if (!resolved_present(c))
      return {make(c, id, Outcome::fail, path,
                   "/etc/resolv.conf points at the systemd-resolved stub (127.0.0.53), but "
                   "systemd-resolved is absent: nothing resolves",
                   resolved_fix)};
    std::string iface = interface_name(c);
    auto index = read_int(c, "/sys/class/net/" + iface + "/ifindex");
    if (index) {
      std::string link = fmt::format("/run/systemd/resolve/netif/{}", *index);
      if (auto state = read_text(c, link)) {
        if (state->find("100.100.100.100") != std::string::npos)
          return {make(
              c, id, Outcome::pass, link,
              fmt::format("systemd-resolved sends {} queries on {} to MagicDNS (100.100.100.100)",
                          names, iface))};
        return {make(
            c, id, Outcome::fail, link,
            fmt::format("systemd-resolved has no MagicDNS server for {}: {} names do not resolve "
                        "(resolved started after tailscaled? tailscale#4934)",
                        iface, names),
            resolved_fix)};
      }
    }
    return {make(
        c, id, Outcome::warn, path,
        fmt::format(
            "/etc/resolv.conf uses systemd-resolved, but resolved shows no DNS settings for {}",
            iface),
        resolved_fix + "\n# see: resolvectl status " + iface)};
  }
  return {
      make(c, id, Outcome::fail, path,
           fmt::format("/etc/resolv.conf sends queries only to {}: {} names do not resolve",
                       rc.nameservers.empty() ? "no nameserver at all" : join(rc.nameservers, ", "),
                       names),
           resolved_fix)};
}

std::vector<Result> check_resolv_conf(DoctorContext& c) {
  const char* id = "resolv-conf";
  const std::string path = "/etc/resolv.conf";
  const std::string resolved_fix =
      "services.resolved.enable = true;  # makes /etc/resolv.conf resolved's stub";
  auto link = c.fs->read_link(path);
  std::string error;
  auto text = read_text(c, path, &error);
  std::string detail = link ? "/etc/resolv.conf -> " + *link : "";
  if (!text)
    return {make(
        c, id, Outcome::fail, path,
        link ? fmt::format("/etc/resolv.conf links to {}, which does not exist: nothing resolves",
                           *link)
        : error.empty() ? "there is no /etc/resolv.conf: nothing resolves"
                        : error,
        resolved_fix, detail)};
  ResolvConf rc = parse_resolv_conf(*text);
  std::string owner = rc.generated_by;
  if (link) {
    if (link->find("systemd/resolve") != std::string::npos)
      owner = "systemd-resolved";
    else if (link->find("NetworkManager") != std::string::npos)
      owner = "NetworkManager";
    else if (link->find("resolvconf") != std::string::npos)
      owner = "resolvconf";
  }
  bool resolved = resolved_present(c);
  // Whether tailscale manages DNS here (accept-dns); unknown without the daemon and the plan.
  std::optional<bool> corp;
  if (c.daemon.prefs)
    corp = c.daemon.prefs->corp_dns;
  else if (c.plan)
    corp = c.plan->prefs.accept_dns;
  if (owner == "systemd-resolved") {
    if (!c.fs->exists("/run/systemd/resolve"))
      return {make(c, id, Outcome::fail, path,
                   "/etc/resolv.conf is systemd-resolved's, but resolved is not running",
                   resolved_fix + "\n# now: sudo systemctl start systemd-resolved", detail)};
    return {make(c, id, Outcome::pass, path,
                 "systemd-resolved manages /etc/resolv.conf; tailscale configures it per interface",
                 "", detail)};
  }
  if (owner == "tailscale") {
    if (resolved)
      return {make(c, id, Outcome::warn, path,
                   "systemd-resolved is present, but tailscale wrote /etc/resolv.conf itself (it "
                   "started before resolved, "
                   "tailscale#4934): resolved's settings are bypassed",
                   resolved_fix + "\n# now: sudo ln -sf /run/systemd/resolve/stub-resolv.conf "
                                  "/etc/resolv.conf && sudo systemctl restart tailscaled",
                   detail)};
    return {make(c, id, Outcome::pass, path,
                 "tailscale manages /etc/resolv.conf directly (there is no systemd-resolved)", "",
                 detail)};
  }
  if (owner == "NetworkManager" && corp.value_or(false) && !resolved)
    return {make(c, id, Outcome::warn, path,
                 "NetworkManager writes /etc/resolv.conf and tailscale overwrites it: they take "
                 "turns, and DNS flips between them",
                 resolved_fix + "  # NetworkManager and tailscale then both go through resolved",
                 detail)};
  if (owner == "resolvconf" || owner == "NetworkManager")
    return {make(c, id, Outcome::pass, path,
                 fmt::format("{} manages /etc/resolv.conf; tailscale goes through it", owner), "",
                 detail)};
  if (!corp)
    return {make(c, id, Outcome::pass, path,
                 "/etc/resolv.conf does not say who manages it (written by hand?); whether "
                 "tailscale would overwrite it "
                 "depends on accept-dns, which is unknown without tailscaled or a fleet host",
                 "", detail)};
  if (*corp)
    return {make(c, id, Outcome::warn, path,
                 "/etc/resolv.conf does not say who manages it (written by hand?): tailscale will "
                 "overwrite it with MagicDNS",
                 resolved_fix + "\n# or, to keep your own DNS: services.tailscale.extraSetFlags = "
                                "[ \"--accept-dns=false\" ];",
                 detail)};
  return {make(c, id, Outcome::pass, path,
               "/etc/resolv.conf is this host's own and accept-dns is off", "", detail)};
}

}  // namespace tsfleet::doctor::detail
