#include "tsfleet/module_emitter.h"

#include <cctype>
#include <set>

#include <fmt/format.h>

namespace tsfleet {

std::string nix_string(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '$':
        // "${" would start an interpolation; "\$" is a literal dollar in any position.
        out += (i + 1 < s.size() && s[i + 1] == '{') ? "\\$" : "$";
        break;
      default: out += c;
    }
  }
  out += '"';
  return out;
}

std::string nix_attr_name(std::string_view s) {
  static const std::set<std::string_view> keywords = {"if", "then", "else", "assert", "with", "let", "in", "rec", "inherit", "or"};
  bool ident = !s.empty() && (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_');
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '\'')) ident = false;
  if (ident && !keywords.count(s)) return std::string(s);
  return nix_string(s);
}

bool has_generated_header(std::string_view text) { return text.substr(0, kGeneratedMarker.size()) == kGeneratedMarker; }

std::string module_relative_path(const HostPlan& plan) { return plan.name + "/tailscale.nix"; }

namespace {

std::string sanitize_comment(std::string_view s) {
  std::string out;
  for (char c : s) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  return out;
}

std::string nix_list(const std::vector<std::string>& items) {
  std::string out = "[";
  for (const auto& i : items) out += " " + nix_string(i);
  return out + " ]";
}

class Writer {
 public:
  void line(const std::string& s) {
    if (s.empty()) {
      out_ += "\n";
      return;
    }
    out_ += std::string(static_cast<size_t>(indent_ * 2), ' ') + s + "\n";
  }
  void open(const std::string& name) {
    line(name + " = {");
    ++indent_;
  }
  void close() {
    --indent_;
    line("};");
  }
  void set(const std::string& name, const std::string& value) { line(name + " = " + value + ";"); }
  void list(const std::string& name, const std::vector<std::string>& items) {
    std::string one = nix_list(items);
    if (items.size() <= 1 || one.size() + name.size() + static_cast<size_t>(indent_ * 2) < 96) {
      set(name, one);
      return;
    }
    line(name + " = [");
    ++indent_;
    for (const auto& i : items) line(nix_string(i));
    --indent_;
    line("];");
  }
  void raw_multiline(const std::string& name, const std::vector<std::string>& body) {
    line(name + " = ''");
    ++indent_;
    for (const auto& b : body) line(b);
    --indent_;
    line("'';");
  }
  int indent_ = 0;
  std::string out_;
};

std::string bool_nix(bool b) { return b ? "true" : "false"; }

std::string roles_text(const Roles& r) {
  std::vector<std::string> v;
  if (r.client) v.push_back("client");
  if (r.subnet_router) v.push_back("subnet-router");
  if (r.exit_node) v.push_back("exit-node");
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

std::string render_host_module(const HostPlan& p, std::string_view inventory) {
  Writer w;
  const SecretWiring& s = p.secret;
  w.line(fmt::format("{} from {} for host \"{}\": do not edit.", kGeneratedMarker, sanitize_comment(inventory), p.name));
  w.line("# Change the fleet file and run `tsfleet configure` instead.");
  if (!p.description.empty()) w.line("# " + sanitize_comment(p.description));
  w.line(fmt::format("# Roles: {}. Target: NixOS {}.", roles_text(p.roles), p.release.to_string()));
  if (s.kind == AuthKeySource::Kind::sops)
    w.line(fmt::format("# Needs sops-nix; the secret \"{}\" holds the bare auth key{}.", sanitize_comment(s.name),
                       s.encrypted_file ? "" : " (sops.defaultSopsFile is set elsewhere)"));
  if (s.kind == AuthKeySource::Kind::agenix)
    w.line(fmt::format("# Needs agenix; age.secrets.\"{}\" holds the bare auth key{}.", sanitize_comment(s.name),
                       s.encrypted_file ? "" : " and its `file` is declared elsewhere"));
  for (const auto& [rule, reason] : p.accepted_findings)
    w.line(fmt::format("# tsfleet: ignore-file {} ({})", rule, sanitize_comment(reason)));
  w.line("{ config, lib, pkgs, ... }:");
  w.line("");
  w.line("{");
  w.indent_ = 1;

  // services.tailscale
  w.open("services.tailscale");
  w.set("enable", "true");
  if (p.routing != RoutingFeatures::none) w.set("useRoutingFeatures", nix_string(to_string(p.routing)));
  if (p.open_firewall && p.open_firewall_option) w.set("openFirewall", "true");
  if (p.port != 41641) w.set("port", std::to_string(p.port));
  if (p.interface_name != "tailscale0") w.set("interfaceName", nix_string(p.interface_name));
  if (s.kind != AuthKeySource::Kind::none && p.auth_key_file_option) {
    switch (s.kind) {
      case AuthKeySource::Kind::sops: w.set("authKeyFile", "config.sops.secrets." + nix_attr_name(s.name) + ".path"); break;
      case AuthKeySource::Kind::agenix: w.set("authKeyFile", "config.age.secrets." + nix_attr_name(s.name) + ".path"); break;
      case AuthKeySource::Kind::path: w.set("authKeyFile", nix_string(s.runtime_path)); break;
      case AuthKeySource::Kind::none: break;
    }
    if (s.parameters) {
      w.open("authKeyParameters");
      if (s.ephemeral) w.set("ephemeral", bool_nix(*s.ephemeral));
      if (s.preauthorized) w.set("preauthorized", bool_nix(*s.preauthorized));
      if (s.base_url) w.set("baseURL", nix_string(*s.base_url));
      w.close();
    }
  }
  if (!p.up_flags.empty()) w.list("extraUpFlags", p.up_flags);
  if (!p.set_flags.empty()) w.list("extraSetFlags", p.set_flags);
  if (!p.daemon_flags.empty()) w.list("extraDaemonFlags", p.daemon_flags);
  if (p.permit_cert_uid) w.set("permitCertUid", nix_string(*p.permit_cert_uid));
  if (p.disable_upstream_logging_option) w.set("disableUpstreamLogging", "true");
  if (p.disable_taildrop_option) w.set("disableTaildrop", "true");
  w.close();

  // The auth key's secret.
  if (s.kind == AuthKeySource::Kind::sops && (s.encrypted_file || !s.restart_units.empty())) {
    w.line("");
    w.open("sops.secrets." + nix_attr_name(s.name));
    if (s.encrypted_file) w.set("sopsFile", "./" + *s.encrypted_file);
    if (!s.restart_units.empty()) w.list("restartUnits", s.restart_units);
    w.close();
  }
  if (s.kind == AuthKeySource::Kind::agenix && s.encrypted_file) {
    w.line("");
    w.open("age.secrets." + nix_attr_name(s.name));
    w.set("file", "./" + *s.encrypted_file);
    w.close();
  }

  // Firewall: never disabled; loose reverse-path filter where routing features need it.
  w.line("");
  w.open("networking.firewall");
  w.set("enable", "true");
  if (p.check_reverse_path) w.set("checkReversePath", nix_string(*p.check_reverse_path));
  if (!p.trusted_interfaces.empty()) w.list("trustedInterfaces", p.trusted_interfaces);
  if (p.open_firewall && !p.open_firewall_option && p.port != 0) w.set("allowedUDPPorts", "[ " + std::to_string(p.port) + " ]");
  w.close();

  if (p.nat) {
    w.line("");
    w.open("networking.nat");
    w.set("enable", "true");
    w.set("externalInterface", nix_string(p.nat->external_interface));
    w.list("internalInterfaces", p.nat->internal_interfaces);
    w.close();
  }
  if (p.nftables) {
    w.line("");
    w.line("# tailscaled picks iptables unless told otherwise; with the nftables firewall that breaks IPv6 via exit nodes.");
    w.set("networking.nftables.enable", "true");
  }
  if (!p.daemon_env.empty()) {
    w.line("");
    w.open("systemd.services.tailscaled.environment");
    for (const auto& [k, v] : p.daemon_env) w.set(nix_attr_name(k), nix_string(v));
    w.close();
  }

  if (p.dns.resolved) {
    w.line("");
    if (!p.dns.upstreams.empty()) w.list("networking.nameservers", p.dns.upstreams);
    w.open("services.resolved");
    w.set("enable", "true");
    if (p.dns.resolved_settings_style) {
      if (!p.dns.dnssec.empty() || !p.dns.dns_over_tls.empty() || !p.dns.fallback.empty()) {
        w.open("settings.Resolve");
        if (!p.dns.dnssec.empty()) w.set("DNSSEC", nix_string(p.dns.dnssec));
        if (!p.dns.dns_over_tls.empty()) w.set("DNSOverTLS", nix_string(p.dns.dns_over_tls));
        if (!p.dns.fallback.empty()) w.list("FallbackDNS", p.dns.fallback);
        w.close();
      }
    } else {
      if (!p.dns.dnssec.empty()) w.set("dnssec", nix_string(p.dns.dnssec));
      if (!p.dns.dns_over_tls.empty()) w.set("dnsovertls", nix_string(p.dns.dns_over_tls));
      if (!p.dns.fallback.empty()) w.list("fallbackDns", p.dns.fallback);
    }
    w.close();
  }

  if (!p.sysctls.empty()) {
    w.line("");
    w.open("boot.kernel.sysctl");
    for (const auto& [k, v] : p.sysctls) w.set(nix_string(k), v.numeric ? v.text : nix_string(v.text));
    w.close();
  }
  if (!p.kernel_modules.empty()) w.list("boot.kernelModules", p.kernel_modules);

  if (p.health_check) {
    const HealthCheck& hc = *p.health_check;
    w.line("");
    w.open("systemd.timers.tailscale-health");
    w.list("wantedBy", {"timers.target"});
    w.open("timerConfig");
    w.set("OnBootSec", nix_string(hc.interval));
    w.set("OnUnitActiveSec", nix_string(hc.interval));
    w.set("Unit", nix_string("tailscale-health.service"));
    w.close();
    w.close();
    w.open("systemd.services.tailscale-health");
    w.set("description", nix_string("Check that tailscaled is Running"));
    w.set("serviceConfig.Type", nix_string("oneshot"));
    std::vector<std::string> script = {
        "status=\"$(${config.services.tailscale.package}/bin/tailscale status --json --peers=false | ${pkgs.jq}/bin/jq -r .BackendState)\"",
        "if [ \"$status\" != \"Running\" ]; then",
        "  echo \"Tailscale not running: $status\" | systemd-cat -t tailscale-health -p err"};
    if (hc.restart) script.push_back("  systemctl restart tailscaled.service");
    script.push_back("  exit 1");
    script.push_back("fi");
    w.raw_multiline("script", script);
    w.close();
  }

  w.indent_ = 0;
  w.line("}");
  return w.out_;
}

}  // namespace tsfleet
