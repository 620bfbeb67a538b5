#include "tsfleet/doctor/doctor.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>

#include "checks.h"
#include "checks_support.h"

namespace tsfleet::doctor {

const std::vector<CheckInfo>& check_catalogue() {
  using namespace detail;
  static const std::vector<CheckInfo> checks = {
      {"daemon", "tailscaled is reachable and Running", "LocalAPI status; the socket",
       check_daemon},
      {"socket-permission", "this user may change tailscaled's settings",
       "LocalAPI check-prefs (changes nothing)", check_socket_permission},
      {"state-dir", "tailscaled's state directory exists and is private",
       "/var/lib/tailscale, tailscaled's --state", check_state_dir},
      {"tun-interface", "the TUN interface exists",
       "/sys/class/net/<interface>; LocalAPI status (TUN)", check_tun_interface},
      {"ip-forwarding", "a subnet router or exit node forwards packets",
       "/proc/sys/net/ipv4/ip_forward, /proc/sys/net/ipv6/conf/all/forwarding; LocalAPI "
       "check-ip-forwarding, prefs; the plan",
       check_ip_forwarding},
      {"rp-filter", "the reverse-path filter lets exit-node and subnet traffic back in",
       "/proc/sys/net/ipv4/conf/{all,default,<interface>}/rp_filter; the firewall ruleset; prefs; "
       "the plan",
       check_rp_filter},
      {"firewall-mode", "tailscaled uses nftables when the firewall does",
       "nftables.service, /etc/nftables.conf, the ruleset; tailscaled's environment "
       "(/proc/<pid>/environ or its unit)",
       check_firewall_mode},
      {"firewall-trust", "the NixOS firewall and tailscale agree about the tailscale interface",
       "iptables-save / nft list ruleset (or the snapshot's copies); prefs (netfilter mode)",
       check_firewall_trust},
      {"udp-port", "tailscaled holds its UDP port and the firewall opens it",
       "/proc/net/udp, /proc/net/udp6, /proc/<pid>/fd; tailscaled's --port; the ruleset",
       check_udp_port},
      {"direct-paths", "active peers are reached directly, not through DERP",
       "LocalAPI status (peers)", check_direct_paths},
      {"magicdns", "MagicDNS names resolve",
       "LocalAPI prefs (accept-dns) and status; /etc/resolv.conf; /run/systemd/resolve",
       check_magicdns},
      {"resolv-conf", "who manages /etc/resolv.conf, and whether that fits",
       "/etc/resolv.conf (symlink target, header)", check_resolv_conf},
      {"key-expiry", "this node's key is not expired or about to",
       "LocalAPI status (Self.KeyExpiry, Self.Expired)", check_key_expiry},
      {"version-skew", "the tailscale CLI and tailscaled are the same version",
       "LocalAPI status (Version); `tailscale version`", check_version_skew},
      {"clock", "the system clock is trustworthy",
       "an NTP server over UDP 123 (--time-server, else the host's chrony/timesyncd servers); "
       "tailscaled's health warnings; /run/systemd/timesync/synchronized",
       check_clock},
      {"health", "tailscaled's own health warnings",
       "LocalAPI watch-ipn-bus (Health), else status (Health)", check_health},
  };
  return checks;
}

const CheckInfo* find_check(std::string_view id) {
  for (const auto& c : check_catalogue())
    if (c.id == id) return &c;
  return nullptr;
}

std::vector<Result> run_checks(DoctorContext& ctx, const std::vector<std::string>& only) {
  std::vector<Result> out;
  for (const auto& check : check_catalogue()) {
    if (!only.empty() && std::find(only.begin(), only.end(), check.id) == only.end()) continue;
    try {
      auto rs = check.run(ctx);
      out.insert(out.end(), std::make_move_iterator(rs.begin()), std::make_move_iterator(rs.end()));
    } catch (const std::exception& e) {
      out.push_back(detail::make(
          ctx, check.id, Outcome::fail, "",
          fmt::format("the check itself failed (a tsfleet bug: please report it): {}", e.what())));
    }
  }
  return out;
}

int exit_code_for_results(const std::vector<Result>& results, bool strict) {
  for (const auto& r : results)
    if (r.outcome == Outcome::fail || (strict && r.outcome == Outcome::warn))
      return exit_code::findings;
  return exit_code::ok;
}

}  // namespace tsfleet::doctor
