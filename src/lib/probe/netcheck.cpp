#include "tsfleet/probe/netcheck.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tsfleet/error.h"

namespace tsfleet::probe {

namespace {
using nlohmann::json;

bool get_bool(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}
std::optional<bool> get_opt_bool(const json& j, const char* key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_boolean()) return std::nullopt;
  return it->get<bool>();
}
std::string get_string(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}
}  // namespace

NetcheckReport parse_netcheck_report(std::string_view text, std::string_view what) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw Error(ErrorCategory::input, fmt::format("{}: not valid JSON", what));
  if (!j.is_object())
    throw Error(ErrorCategory::input, fmt::format("{}: expected a JSON object", what));
  NetcheckReport r;
  r.udp = get_bool(j, "UDP");
  r.ipv4 = get_bool(j, "IPv4");
  r.ipv6 = get_bool(j, "IPv6");
  r.ipv4_can_send = get_bool(j, "IPv4CanSend");
  r.icmpv4 = get_bool(j, "ICMPv4");
  r.mapping_varies_by_dest_ip = get_opt_bool(j, "MappingVariesByDestIP");
  r.upnp = get_opt_bool(j, "UPnP");
  r.pmp = get_opt_bool(j, "PMP");
  r.pcp = get_opt_bool(j, "PCP");
  r.captive_portal = get_opt_bool(j, "CaptivePortal");
  r.hair_pinning = get_opt_bool(j, "HairPinning");
  if (auto it = j.find("PreferredDERP"); it != j.end() && it->is_number_integer())
    r.preferred_derp = it->get<std::int64_t>();
  if (auto it = j.find("RegionLatency"); it != j.end() && it->is_object())
    for (const auto& [k, v] : it->items())
      if (v.is_number()) r.region_latency_ms[k] = v.get<double>() / 1e6;
  r.global_v4 = get_string(j, "GlobalV4");
  r.global_v6 = get_string(j, "GlobalV6");
  return r;
}

NetcheckReport run_netcheck(sys::ProcessRunner& runner, const std::string& tailscale,
                            const std::optional<std::string>& socket,
                            std::chrono::milliseconds timeout) {
  sys::ProcessRequest req;
  req.argv = {tailscale};
  if (socket) req.argv.push_back("--socket=" + *socket);
  req.argv.insert(req.argv.end(), {"netcheck", "--format=json"});
  req.timeout = timeout;
  auto res = runner.run(req);
  if (res.timed_out)
    throw Error(ErrorCategory::timeout, fmt::format("`{} netcheck` did not finish within {} ms",
                                                    tailscale, timeout.count()));
  if (res.exit_code != 0) {
    std::string err = res.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    throw Error(ErrorCategory::daemon, fmt::format("`{} netcheck --format=json` exited {}: {}",
                                                   tailscale, res.exit_code, err));
  }
  return parse_netcheck_report(res.out,
                               fmt::format("`{} netcheck --format=json` output", tailscale));
}

std::string explain_relay(const NetcheckReport& r) {
  std::vector<std::string> why;
  if (!r.udp)
    why.push_back(
        "UDP is blocked on this network: every peer goes through DERP (TCP/443). Allow outbound "
        "UDP (41641 and "
        "STUN 3478).");
  if (r.mapping_varies_by_dest_ip.value_or(false))
    why.push_back(
        "hard NAT: the public port changes with the destination (MappingVariesByDestIP), so direct "
        "paths need "
        "the other side to be reachable or a port mapping.");
  bool any_mapping = r.upnp.value_or(false) || r.pmp.value_or(false) || r.pcp.value_or(false);
  bool mapping_checked = r.upnp || r.pmp || r.pcp;
  if (r.mapping_varies_by_dest_ip.value_or(false) && !any_mapping)
    why.push_back(mapping_checked
                      ? "no port mapping (UPnP, NAT-PMP, PCP) on the router: enable one, or "
                        "forward UDP 41641 to this host (services.tailscale.port, openFirewall)."
                      : "port mapping (UPnP, NAT-PMP, PCP) was not checked: if the router has "
                        "none, enable one or forward UDP 41641 to this host "
                        "(services.tailscale.port, openFirewall).");
  if (r.captive_portal.value_or(false))
    why.push_back("a captive portal intercepts traffic: log in to the network first.");
  if (r.preferred_derp == 0)
    why.push_back("no DERP region answered: relayed traffic has nowhere to go.");
  std::string out;
  for (const auto& w : why) out += (out.empty() ? "" : "\n") + w;
  return out;
}

Result netcheck_result(const NetcheckReport& r, const std::vector<std::string>& relayed_peers) {
  Result res;
  res.check = "netcheck";
  std::string peers;
  for (const auto& p : relayed_peers) peers += (peers.empty() ? "" : ", ") + p;
  std::string nat = !r.mapping_varies_by_dest_ip   ? "NAT type not checked"
                    : *r.mapping_varies_by_dest_ip ? "hard NAT (mapping varies by destination)"
                                                   : "easy NAT";
  std::string derp =
      r.preferred_derp ? fmt::format("nearest DERP region {}", r.preferred_derp) : "no DERP region";
  std::string relayed = peers.empty() ? "" : fmt::format("; relayed: {}", peers);
  std::string why = explain_relay(r);
  if (!r.udp) {
    res.outcome = Outcome::fail;
    res.summary = fmt::format("UDP blocked, {}{}", derp, relayed);
  } else if (r.mapping_varies_by_dest_ip.value_or(false) || r.preferred_derp == 0 ||
             r.captive_portal.value_or(false)) {
    res.outcome = Outcome::warn;
    res.summary = fmt::format("UDP ok, {}, {}{}", nat, derp, relayed);
  } else {
    res.outcome = Outcome::pass;
    res.summary = fmt::format("UDP ok, {}, {}{}", nat, derp, relayed);
  }
  res.detail = fmt::format("layer: NAT traversal (netcheck, by {})", r.method);
  if (!r.global_v4.empty()) res.detail += fmt::format("\npublic IPv4 {}", r.global_v4);
  if (!r.global_v6.empty()) res.detail += fmt::format("\npublic IPv6 {}", r.global_v6);
  for (const auto& note : r.notes) res.detail += "\n" + note;
  if (!why.empty()) res.detail += "\n" + why;
  if (res.outcome != Outcome::pass)
    res.fix = !r.udp ? "allow outbound UDP from this host (41641/udp and STUN 3478/udp) in the "
                       "network's firewall"
                     : "forward UDP 41641 to this host or enable UPnP/NAT-PMP/PCP on the router; "
                       "services.tailscale.openFirewall = true;";
  return res;
}

}  // namespace tsfleet::probe
