#include "tsfleet/plan.h"

#include <algorithm>

#include <fmt/format.h>

#include "tsfleet/error.h"

namespace tsfleet {

std::string to_string(RoutingFeatures f) {
  switch (f) {
    case RoutingFeatures::none: return "none";
    case RoutingFeatures::client: return "client";
    case RoutingFeatures::server: return "server";
    case RoutingFeatures::both: return "both";
  }
  return "none";
}

namespace {
std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}
}  // namespace

std::vector<std::string> login_flags(const DesiredPrefs& p) {
  std::vector<std::string> f;
  if (p.login_server) f.push_back("--login-server=" + *p.login_server);
  if (!p.advertise_tags.empty()) f.push_back("--advertise-tags=" + join(p.advertise_tags, ","));
  return f;
}

std::vector<std::string> persistent_flags(const DesiredPrefs& p) {
  std::vector<std::string> f;
  if (!p.hostname.empty()) f.push_back("--hostname=" + p.hostname);
  if (!p.advertise_routes.empty()) f.push_back("--advertise-routes=" + join(p.advertise_routes, ","));
  if (p.advertise_exit_node) f.push_back("--advertise-exit-node=true");
  f.push_back(std::string("--accept-routes=") + (p.accept_routes ? "true" : "false"));
  if (!p.accept_dns) f.push_back("--accept-dns=false");
  if (p.exit_node) f.push_back("--exit-node=" + *p.exit_node);
  if (p.exit_node_allow_lan_access) f.push_back("--exit-node-allow-lan-access=true");
  if (p.netfilter_mode != "on") f.push_back("--netfilter-mode=" + p.netfilter_mode);
  if (p.ssh) f.push_back("--ssh=true");
  if (p.operator_user) f.push_back("--operator=" + *p.operator_user);
  return f;
}

HostPlan plan_host(const Fleet& fleet, const Host& h) {
  HostPlan p;
  const NixosRelease& rel = fleet.release;
  auto has = [&](const char* option) { return release_has_option(rel, option); };
  auto since = [&](const char* option) { return find_option_gate(option)->since.to_string(); };
  auto refuse = [&](const std::string& what) {
    throw Error(ErrorCategory::input, fmt::format("{}: host {}: {}", fleet.source, h.name, what));
  };

  p.name = h.name;
  p.description = h.description;
  p.roles = h.roles;
  p.release = rel;

  // Prefs.
  DesiredPrefs& pr = p.prefs;
  pr.hostname = h.hostname;
  pr.accept_routes = h.accept_routes;
  pr.accept_dns = h.accept_dns;
  if (h.exit_node) {
    if (*h.exit_node == "auto:any") {
      pr.exit_node = "auto:any";
    } else {
      const Host* t = fleet.find(*h.exit_node);
      pr.exit_node = t && !t->hostname.empty() ? t->hostname : *h.exit_node;
    }
  }
  pr.exit_node_allow_lan_access = h.exit_node_allow_lan_access;
  for (const auto& r : h.routes) pr.advertise_routes.push_back(r.to_string());
  pr.advertise_exit_node = h.roles.exit_node;
  pr.advertise_tags = h.tags;
  pr.netfilter_mode = h.netfilter_mode;
  pr.ssh = h.ssh;
  pr.operator_user = h.operator_user;
  pr.login_server = h.login_server;

  // Routing features: offering routes or an exit node needs forwarding (server); using routes or
  // an exit node needs the loose reverse-path filter (client).
  bool offers = h.roles.offers_routing();
  bool uses = h.accept_routes || h.exit_node.has_value();
  p.routing = offers && uses ? RoutingFeatures::both
              : offers       ? RoutingFeatures::server
              : uses         ? RoutingFeatures::client
                             : RoutingFeatures::none;
  if (p.routing != RoutingFeatures::none) p.check_reverse_path = "loose";

  p.port = h.port;
  p.interface_name = h.userspace_networking ? "userspace-networking" : h.interface_name;
  p.open_firewall = h.firewall.open_firewall;
  p.open_firewall_option = has("services.tailscale.openFirewall");
  if (p.open_firewall && !p.open_firewall_option)
    p.notes.push_back(fmt::format("NixOS {} has no services.tailscale.openFirewall (since {}): opening UDP {} with networking.firewall.allowedUDPPorts",
                                  rel.to_string(), since("services.tailscale.openFirewall"), h.port));
  p.permit_cert_uid = h.permit_cert_uid;

  if (h.firewall.trusted_interfaces_set) p.trusted_interfaces = h.firewall.trusted_interfaces;
  else if (!h.userspace_networking) p.trusted_interfaces = {h.interface_name};
  if (!h.userspace_networking &&
      std::find(p.trusted_interfaces.begin(), p.trusted_interfaces.end(), h.interface_name) == p.trusted_interfaces.end())
    p.accepted_findings.push_back({"tailscale-interface-untrusted", fmt::format("the fleet file's trusted_interfaces leave out {}", h.interface_name)});
  if (offers && !h.firewall.open_firewall && h.port != 0)
    p.accepted_findings.push_back({"router-firewall-closed", "the fleet file sets open_firewall: false"});

  if (h.lan_interface && offers)
    p.nat = NatPlan{*h.lan_interface, {h.userspace_networking ? std::string("tailscale0") : h.interface_name}};
  p.nftables = h.nftables;
  if (h.nftables) p.daemon_env["TS_DEBUG_FIREWALL_MODE"] = "nftables";

  // Secret wiring.
  SecretWiring& s = p.secret;
  s.kind = h.auth_key.kind;
  s.name = h.auth_key.name;
  s.encrypted_file = h.auth_key.file;
  switch (h.auth_key.kind) {
    case AuthKeySource::Kind::sops:
      s.runtime_path = "/run/secrets/" + s.name;
      s.restart_units = {"tailscaled-autoconnect.service"};
      break;
    case AuthKeySource::Kind::agenix: s.runtime_path = "/run/agenix/" + s.name; break;
    case AuthKeySource::Kind::path: s.runtime_path = h.auth_key.path; break;
    case AuthKeySource::Kind::none: break;
  }
  s.ephemeral = h.auth_key.ephemeral;
  s.preauthorized = h.auth_key.preauthorized;
  s.base_url = h.auth_key.base_url;
  s.parameters = s.ephemeral || s.preauthorized || s.base_url;
  if (s.parameters && !has("services.tailscale.authKeyParameters"))
    refuse(fmt::format("auth_key.parameters need services.tailscale.authKeyParameters, which NixOS {} lacks (since {}): remove them or target a newer release",
                       rel.to_string(), since("services.tailscale.authKeyParameters")));
  p.auth_key_file_option = has("services.tailscale.authKeyFile");
  bool autoconnect = s.kind != AuthKeySource::Kind::none && p.auth_key_file_option;
  if (s.kind != AuthKeySource::Kind::none && !p.auth_key_file_option)
    p.notes.push_back(fmt::format("NixOS {} has no services.tailscale.authKeyFile (since {}): the key is still wired as a secret; log in with `tsfleet up --host {}` after deploying",
                                  rel.to_string(), since("services.tailscale.authKeyFile"), h.name));

  // Flags: login-time ones go to extraUpFlags, persistent prefs to extraSetFlags.
  std::vector<std::string> login = login_flags(pr);
  login.insert(login.end(), h.extra_up_flags.begin(), h.extra_up_flags.end());
  std::vector<std::string> persistent = persistent_flags(pr);
  persistent.insert(persistent.end(), h.extra_set_flags.begin(), h.extra_set_flags.end());
  if (has("services.tailscale.extraSetFlags")) {
    p.set_flags = persistent;
  } else {
    login.insert(login.end(), persistent.begin(), persistent.end());
    p.notes.push_back(fmt::format("NixOS {} has no services.tailscale.extraSetFlags (since {}): preferences go in extraUpFlags and apply at first login; `tsfleet up --host {}` applies later changes",
                                  rel.to_string(), since("services.tailscale.extraSetFlags"), h.name));
  }
  if (autoconnect) {
    p.up_flags = login;
  } else if (!login.empty()) {
    p.notes.push_back(fmt::format("no auth key is wired, so the module cannot log in and would ignore extraUpFlags: `tsfleet up --host {}` logs in with {}",
                                  h.name, join(login, " ")));
  }

  // Daemon flags and privacy.
  p.daemon_flags = h.extra_daemon_flags;
  if (!p.daemon_flags.empty() && !has("services.tailscale.extraDaemonFlags"))
    refuse(fmt::format("extra_daemon_flags need services.tailscale.extraDaemonFlags, which NixOS {} lacks (since {})",
                       rel.to_string(), since("services.tailscale.extraDaemonFlags")));
  if (h.no_logs) {
    if (has("services.tailscale.disableUpstreamLogging")) {
      p.disable_upstream_logging_option = true;
    } else if (has("services.tailscale.extraDaemonFlags")) {
      p.daemon_flags.push_back("--no-logs-no-support");
      p.notes.push_back(fmt::format("NixOS {} has no services.tailscale.disableUpstreamLogging (since {}): using extraDaemonFlags = [ \"--no-logs-no-support\" ]",
                                    rel.to_string(), since("services.tailscale.disableUpstreamLogging")));
    } else {
      p.daemon_env["TS_NO_LOGS_NO_SUPPORT"] = "true";
      p.notes.push_back(fmt::format("NixOS {} has neither disableUpstreamLogging nor extraDaemonFlags: setting TS_NO_LOGS_NO_SUPPORT in tailscaled's environment",
                                    rel.to_string()));
    }
  }
  if (h.disable_taildrop) {
    if (has("services.tailscale.disableTaildrop")) {
      p.disable_taildrop_option = true;
    } else {
      p.daemon_env["TS_DISABLE_TAILDROP"] = "true";
      p.notes.push_back(fmt::format("NixOS {} has no services.tailscale.disableTaildrop (since {}): setting TS_DISABLE_TAILDROP in tailscaled's environment",
                                    rel.to_string(), since("services.tailscale.disableTaildrop")));
    }
  }

  // DNS.
  p.dns.mode = h.dns.mode;
  p.dns.resolved = h.dns.mode == DnsSettings::Mode::resolved;
  p.dns.resolved_settings_style = p.dns.resolved && has("services.resolved.settings");
  p.dns.upstreams = h.dns.upstreams;
  p.dns.fallback = h.dns.fallback;
  p.dns.dnssec = h.dns.dnssec;
  p.dns.dns_over_tls = h.dns.dns_over_tls;

  // The seed's optional network tuning for VPN traffic.
  if (h.network_tuning) {
    p.sysctls["net.core.rmem_max"] = {"134217728", true};
    p.sysctls["net.core.wmem_max"] = {"134217728", true};
    p.sysctls["net.ipv4.tcp_rmem"] = {"4096 87380 67108864", false};
    p.sysctls["net.ipv4.tcp_wmem"] = {"4096 65536 67108864", false};
    p.sysctls["net.core.default_qdisc"] = {"fq", false};
    p.sysctls["net.ipv4.tcp_congestion_control"] = {"bbr", false};
    p.kernel_modules.push_back("tcp_bbr");
  }
  if (h.health_check.enable) p.health_check = h.health_check;

  // Expectations for the live tailnet.
  p.expect.reachable_directly = offers;
  p.expect.offered_routes = pr.advertise_routes;
  p.expect.offers_exit_node = h.roles.exit_node;
  p.expect.uses_exit_node = pr.exit_node;
  p.expect.accepts_routes = h.accept_routes;
  return p;
}

std::vector<HostPlan> plan(const Fleet& fleet) {
  std::vector<HostPlan> out;
  out.reserve(fleet.hosts.size());
  for (const auto& h : fleet.hosts) out.push_back(plan_host(fleet, h));
  return out;
}

}  // namespace tsfleet
