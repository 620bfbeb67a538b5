#include "tsfleet/lint/rules.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <string_view>
#include <unordered_set>

#include <fmt/format.h>

#include "tsfleet/cidr.h"
#include "tsfleet/suggest.h"
#include "tsfleet/tailscale_flags.h"

namespace tsfleet::lint {

using State = ModuleSet::Effective::State;

namespace {
RuleInfo R(std::string id, Severity severity, std::string title, std::string why, std::string fix, std::string bad, std::string good,
           std::string kind = "module", std::string release = "") {
  return RuleInfo{std::move(id), severity, std::move(title), std::move(why), std::move(fix), std::move(bad), std::move(good),
                  std::move(kind), std::move(release)};
}
}  // namespace

const std::vector<RuleInfo>& rule_catalogue() {
  static const std::vector<RuleInfo> rules = {
      R("firewall-disabled", Severity::error, "The NixOS firewall is disabled",
       "With the firewall off every service listening on any interface is open to the LAN and, through tailscale0, to the whole tailnet. Tailscale needs no open TCP port and only UDP 41641 for direct paths.",
       "Keep networking.firewall.enable = true; open UDP with services.tailscale.openFirewall and trust tailscale0 with networking.firewall.trustedInterfaces.",
       "networking.firewall.enable = false;",
       "networking.firewall.enable = true;\nnetworking.firewall.trustedInterfaces = [ \"tailscale0\" ];\nservices.tailscale.openFirewall = true;"),
      R("strict-rpfilter-with-routing", Severity::error, "A strict reverse-path filter while using an exit node or subnet routes",
       "Tailscale's policy routing makes replies from an exit node or a subnet arrive on tailscale0 while the main table points elsewhere; the strict rpfilter drops them as spoofed, so all traffic stops (tailscale/tailscale#4432).",
       "Set services.tailscale.useRoutingFeatures = \"client\" (or \"both\"), which sets checkReversePath = \"loose\"; do not force checkReversePath back to true.",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"client\";\nservices.tailscale.extraSetFlags = [ \"--exit-node=p620\" ];\nnetworking.firewall.checkReversePath = lib.mkForce true;",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"client\";\nservices.tailscale.extraSetFlags = [ \"--exit-node=p620\" ];\nnetworking.firewall.checkReversePath = \"loose\";"),
      R("advertise-without-forwarding", Severity::error, "Routes or an exit node advertised without useRoutingFeatures server or both",
       "Only useRoutingFeatures = \"server\" or \"both\" turns on IPv4 and IPv6 forwarding; without it the node advertises routes it cannot forward, and `tailscale set` does not even warn (tailscale/tailscale#14760).",
       "Set services.tailscale.useRoutingFeatures = \"server\" (or \"both\" when the host also uses routes or an exit node).",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--advertise-exit-node=true\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"server\";\nservices.tailscale.extraSetFlags = [ \"--advertise-exit-node=true\" ];"),
      R("up-flags-without-auth-key", Severity::warning, "extraUpFlags without authKeyFile are ignored",
       "The module passes extraUpFlags only to the autoconnect unit, which exists only when authKeyFile is set: without it the flags do nothing (nixpkgs#276912).",
       "Put persistent preferences in services.tailscale.extraSetFlags (applied on every boot without a key), or set authKeyFile.",
       "services.tailscale.enable = true;\nservices.tailscale.extraUpFlags = [ \"--accept-routes=true\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--accept-routes=true\" ];"),
      R("flag-value-split", Severity::error, "A flag and its value are split or joined wrongly",
       "Each list element is exactly one argv word: \"--login-server https://x\" is one word that tailscale rejects with \"flag provided but not defined\", and [ \"--advertise-routes\" \"10.0.0.0/24\" ] gives the flag no value (nixpkgs#399572).",
       "Write each flag as one \"--flag=value\" element.",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--advertise-routes 10.0.0.0/24\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"server\";\nservices.tailscale.extraSetFlags = [ \"--advertise-routes=10.0.0.0/24\" ];"),
      R("unknown-tailscale-flag", Severity::error, "A flag that tailscale up/set does not have",
       "tailscale exits with \"flag provided but not defined\" and the unit fails, so none of the other flags apply either.",
       "Use the flag's real name (the message suggests the closest one).",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--accept-route=true\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--accept-routes=true\" ];"),
      R("flag-wrong-command", Severity::error, "A flag in the list of a command that does not accept it",
       "`tailscale set` has no login-time flags (--advertise-tags, --login-server, --auth-key, --reset) and `tailscale up` no longer takes --webclient or the update flags: the unit fails.",
       "Login-time flags go in extraUpFlags (with authKeyFile), preferences in extraSetFlags.",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--advertise-tags=tag:server\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = \"/run/secrets/ts\";\nservices.tailscale.extraUpFlags = [ \"--advertise-tags=tag:server\" ];"),
      R("bad-flag-value", Severity::error, "A flag with a value tailscale rejects",
       "A bad --netfilter-mode, a route with host bits set or a non-boolean for a boolean flag makes tailscale up/set fail.",
       "Use a value the flag accepts (the message lists them).",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--netfilter-mode=divert\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--netfilter-mode=nodivert\" ];"),
      R("flag-conflict", Severity::error, "The same flag given twice with different values, or a flag that needs another",
       "tailscale applies the last value, so the earlier one silently loses; --exit-node-allow-lan-access without --exit-node is refused.",
       "Give each flag once; add the flag it needs.",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--accept-dns=true\" \"--accept-dns=false\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--accept-dns=false\" ];"),
      R("auth-key-path-literal", Severity::error, "authKeyFile is a Nix path literal: the key is copied into the world-readable store",
       "A path literal such as ./tailscale-key is copied to /nix/store when the autoconnect script interpolates it, where every local user can read it.",
       "Use a string outside the store: config.sops.secrets.<name>.path, config.age.secrets.<name>.path, or \"/run/keys/tailscale\".",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = ./tailscale-authkey;",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = config.sops.secrets.tailscale.path;\nsops.secrets.tailscale.restartUnits = [ \"tailscaled-autoconnect.service\" ];"),
      R("auth-key-literal", Severity::error, "A Tailscale key written into a file",
       "Anything in a Nix file ends up in the repository and, when evaluated, in the world-readable store.",
       "Revoke the key, store a new one with sops-nix or agenix, and point services.tailscale.authKeyFile at the secret's path.",
       "services.tailscale.enable = true;\n# an auth key pasted in: tskey-REDACTED",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = config.sops.secrets.tailscale.path;\nsops.secrets.tailscale.restartUnits = [ \"tailscaled-autoconnect.service\" ];"),
      R("auth-key-flag", Severity::error, "An auth key passed as a flag",
       "--auth-key in extraUpFlags puts the key (or its path) on a command line in the store and competes with authKeyFile.",
       "Set services.tailscale.authKeyFile to the secret's path and drop the flag.",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = \"/run/secrets/ts\";\nservices.tailscale.extraUpFlags = [ \"--auth-key=file:/run/secrets/ts\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = \"/run/secrets/ts\";"),
      R("router-firewall-closed", Severity::warning, "A subnet router or exit node without its UDP port open",
       "Without UDP 41641 open, peers reach the router through DERP relays more often, and everything routed through it pays the relay's latency and throughput.",
       "Set services.tailscale.openFirewall = true (or open services.tailscale.port in allowedUDPPorts).",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"server\";",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"server\";\nservices.tailscale.openFirewall = true;"),
      R("nftables-without-firewall-mode", Severity::warning, "The nftables firewall without TS_DEBUG_FIREWALL_MODE=nftables",
       "tailscaled picks iptables unless told otherwise; next to the nftables firewall that breaks IPv6 through exit nodes (nixpkgs#285676).",
       "Set systemd.services.tailscaled.environment.TS_DEBUG_FIREWALL_MODE = \"nftables\";",
       "services.tailscale.enable = true;\nnetworking.nftables.enable = true;",
       "services.tailscale.enable = true;\nnetworking.nftables.enable = true;\nsystemd.services.tailscaled.environment.TS_DEBUG_FIREWALL_MODE = \"nftables\";"),
      R("tailscale-interface-untrusted", Severity::warning, "tailscale0 is not a trusted interface while the firewall is on",
       "With the nftables firewall, packets on tailscale0 are dropped before Tailscale's own accept rule (nixpkgs#490273); with iptables, Tailscale's accept-all rule bypasses the NixOS firewall anyway (nixpkgs PR #454518). Trusting the interface says what really happens: tailnet ACLs decide.",
       "Add the interface: networking.firewall.trustedInterfaces = [ \"tailscale0\" ];",
       "services.tailscale.enable = true;\nnetworking.firewall.trustedInterfaces = [ \"br0\" ];",
       "services.tailscale.enable = true;\nnetworking.firewall.trustedInterfaces = [ \"br0\" \"tailscale0\" ];"),
      R("dns-conflict", Severity::warning, "DNS settings that fight each other",
       "systemd-resolved and resolvconf both want /etc/resolv.conf; and strict DNS-over-TLS makes resolved refuse MagicDNS, whose resolver 100.100.100.100 speaks plain DNS (tailscale/tailscale#4934, nixpkgs#247377).",
       "Use one resolver manager; with resolved use dnsovertls = \"opportunistic\" (or accept-dns=false).",
       "services.tailscale.enable = true;\nservices.resolved.enable = true;\nservices.resolved.dnsovertls = \"true\";",
       "services.tailscale.enable = true;\nservices.resolved.enable = true;\nservices.resolved.dnsovertls = \"opportunistic\";"),
      R("magicdns-resolver-hardcoded", Severity::warning, "100.100.100.100 hard-coded as a nameserver",
       "The MagicDNS resolver exists only while tailscaled is up and the node is connected: hard-coding it breaks all name resolution whenever Tailscale is down.",
       "Let tailscaled configure it (accept-dns, with systemd-resolved for split DNS) and list real upstreams in networking.nameservers.",
       "services.tailscale.enable = true;\nnetworking.nameservers = [ \"100.100.100.100\" \"1.1.1.1\" ];",
       "services.tailscale.enable = true;\nnetworking.nameservers = [ \"1.1.1.1\" ];\nservices.resolved.enable = true;"),
      R("forwarding-sysctl-overridden", Severity::warning, "Forwarding sysctls set plainly while useRoutingFeatures overrides them",
       "useRoutingFeatures = \"server\"/\"both\" sets the forwarding sysctls with mkOverride 97, which beats a plain definition (priority 100): the plain value is silently ignored.",
       "Drop the plain definition (the module already enables forwarding), or use lib.mkForce if you really mean another value.",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"server\";\nboot.kernel.sysctl.\"net.ipv4.conf.all.forwarding\" = 0;",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"server\";"),
      R("option-needs-newer-release", Severity::error, "An option the target NixOS release does not have",
       "Evaluation fails with \"The option ... does not exist\" on the older release.",
       "Target a newer release, or use the fallback the message names.",
       "services.tailscale.enable = true;\nservices.tailscale.extraSetFlags = [ \"--accept-routes=true\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = \"/run/secrets/ts\";\nservices.tailscale.extraUpFlags = [ \"--accept-routes=true\" ];",
       "module", "24.05"),
      R("unknown-option", Severity::error, "A services.tailscale option that does not exist",
       "Evaluation fails with \"The option ... does not exist\"; some names (authKey, loginServer, stateDir, ignoreReversePathFilter) were only ever proposed or were removed.",
       "Use the real option (the message suggests the closest, or what replaced it).",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeature = \"client\";",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"client\";"),
      R("conflicting-definitions", Severity::error, "An option defined twice with different values at the same priority",
       "NixOS refuses to evaluate: \"The option ... has conflicting definition values\".",
       "Keep one definition, or make the one that should win lib.mkForce.",
       "services.tailscale = lib.mkMerge [\n  { enable = true; port = 41641; }\n  { port = 41642; }\n];",
       "services.tailscale = lib.mkMerge [\n  { enable = true; port = 41641; }\n  { port = lib.mkForce 41642; }\n];"),
      R("bad-option-value", Severity::error, "An option value the option's type rejects",
       "useRoutingFeatures takes \"none\", \"client\", \"server\" or \"both\"; checkReversePath a boolean, \"strict\" or \"loose\"; port 0-65535: anything else fails evaluation.",
       "Use one of the values the message lists.",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"router\";",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"both\";"),
      R("daemon-flags-unescaped", Severity::warning, "extraDaemonFlags with spaces or shell characters",
       "The module joins extraDaemonFlags with spaces into the unit's FLAGS= without escaping, so a value with a space becomes two flags.",
       "One flag per element, as --flag=value without spaces or quotes.",
       "services.tailscale.enable = true;\nservices.tailscale.extraDaemonFlags = [ \"--state=/var/lib/my tailscale\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.extraDaemonFlags = [ \"--state=/var/lib/tailscale-alt\" ];"),
      R("userspace-exit-node", Severity::error, "An exit node used in userspace-networking mode",
       "With interfaceName = \"userspace-networking\" there is no tailscale0 and no kernel routes: the host's own traffic cannot go through an exit node or to subnet routes.",
       "Use the kernel TUN interface (the default tailscale0), or drop --exit-node.",
       "services.tailscale.enable = true;\nservices.tailscale.interfaceName = \"userspace-networking\";\nservices.tailscale.extraSetFlags = [ \"--exit-node=p620\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.interfaceName = \"userspace-networking\";"),
      R("autoconnect-key-in-argv", Severity::warning, "A hand-written autoconnect unit passes the key on the command line",
       "`tailscale up --authkey \"$KEY\"` shows the key in the process list to every local user, and a `sleep` before it races tailscaled (nixpkgs#204622, PR #338210).",
       "Use services.tailscale.authKeyFile (23.11+): the module's tailscaled-autoconnect waits for the daemon and reads the key from the file.",
       "services.tailscale.enable = true;\nsystemd.services.tailscale-autoconnect.script = ''\n  sleep 2\n  ${pkgs.tailscale}/bin/tailscale up -authkey \"$TAILSCALE_AUTH_KEY\"\n'';",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = config.sops.secrets.tailscale.path;\nsops.secrets.tailscale.restartUnits = [ \"tailscaled-autoconnect.service\" ];"),
      R("sops-secret-no-restart", Severity::info, "The auth key's sops secret does not restart autoconnect",
       "When the key is rotated, tailscaled-autoconnect keeps the old one until the next boot.",
       "Add sops.secrets.<name>.restartUnits = [ \"tailscaled-autoconnect.service\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = config.sops.secrets.tailscale.path;\nsops.secrets.tailscale = { };",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = config.sops.secrets.tailscale.path;\nsops.secrets.tailscale.restartUnits = [ \"tailscaled-autoconnect.service\" ];"),
      R("persistent-pref-in-up-flags", Severity::warning, "A persistent preference in extraUpFlags",
       "extraUpFlags apply only when autoconnect logs in; a later change needs `tailscale up`, which fails with \"requires mentioning all non-default flags\" once other prefs are set (nixpkgs#509367, #276912).",
       "Move preferences (--accept-routes, --advertise-routes, --exit-node, ...) to extraSetFlags; keep extraUpFlags for --login-server and --advertise-tags.",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = \"/run/secrets/ts\";\nservices.tailscale.extraUpFlags = [ \"--accept-routes=true\" ];",
       "services.tailscale.enable = true;\nservices.tailscale.authKeyFile = \"/run/secrets/ts\";\nservices.tailscale.extraSetFlags = [ \"--accept-routes=true\" ];"),
      R("tailscale-settings-without-enable", Severity::warning, "services.tailscale options set but the service is not enabled",
       "Without services.tailscale.enable = true none of the other options do anything.",
       "Add services.tailscale.enable = true;",
       "services.tailscale.useRoutingFeatures = \"client\";",
       "services.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"client\";"),
      R("overlapping-routes", Severity::warning, "Two hosts advertise overlapping but different routes",
       "Tailscale picks the most specific route, so part of the larger subnet silently goes through the other router. Identical routes on two routers are fine (a high-availability pair).",
       "Advertise the same prefix on both routers, or non-overlapping prefixes.",
       "{\"schema_version\": 1, \"hosts\": {\"a\": {\"roles\": [\"subnet-router\"], \"routes\": [\"10.0.0.0/16\"]}, \"b\": {\"roles\": [\"subnet-router\"], \"routes\": [\"10.0.1.0/24\"]}}}",
       "{\"schema_version\": 1, \"hosts\": {\"a\": {\"roles\": [\"subnet-router\"], \"routes\": [\"10.0.0.0/24\"]}, \"b\": {\"roles\": [\"subnet-router\"], \"routes\": [\"10.0.1.0/24\"]}}}",
       "fleet", ""),
      R("tag-without-owner", Severity::warning, "A host tag that no one owns in the tailnet policy",
       "Logging in with --advertise-tags=tag:x fails unless the policy's tagOwners lists tag:x and the key may use it.",
       "Add the tag to tagOwners in the tailnet policy (and to the fleet file's tag_owners), or drop it from the host.",
       "{\"schema_version\": 1, \"tag_owners\": {\"tag:server\": [\"autogroup:admin\"]}, \"hosts\": {\"a\": {\"roles\": [\"client\"], \"tags\": [\"tag:laptop\"]}}}",
       "{\"schema_version\": 1, \"tag_owners\": {\"tag:laptop\": [\"autogroup:admin\"]}, \"hosts\": {\"a\": {\"roles\": [\"client\"], \"tags\": [\"tag:laptop\"]}}}",
       "fleet", ""),
      R("module-disagrees-with-inventory", Severity::error, "A host's module disagrees with its role in the fleet file",
       "The fleet file says what the host is for (routes, exit node, routing features); a module that says otherwise means the inventory, `tsfleet test` and the host disagree.",
       "Regenerate the module with `tsfleet configure`, or change the host in the fleet file.",
       "# the fleet file: \"a\": { \"roles\": [\"client\"], \"accept_routes\": true }\nservices.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"both\";",
       "# the fleet file: \"a\": { \"roles\": [\"client\"], \"accept_routes\": true }\nservices.tailscale.enable = true;\nservices.tailscale.useRoutingFeatures = \"client\";",
       "inventory", ""),
  };
  return rules;
}

const RuleInfo* find_rule(std::string_view id) {
  for (const auto& r : rule_catalogue())
    if (r.id == id) return &r;
  return nullptr;
}

namespace {

// find_first_of(chars), without the memchr into `chars` that libstdc++ makes per character.
size_t find_any(std::string_view s, std::string_view chars) {
  bool set[256] = {};
  for (char c : chars) set[static_cast<unsigned char>(c)] = true;
  for (size_t i = 0; i < s.size(); ++i)
    if (set[static_cast<unsigned char>(s[i])]) return i;
  return std::string_view::npos;
}

const std::vector<std::string> kTailscaleOptions = {
    "enable", "package", "port", "interfaceName", "permitCertUid", "openFirewall", "useRoutingFeatures", "authKeyFile",
    "authKeyParameters", "extraUpFlags", "extraSetFlags", "extraDaemonFlags", "disableTaildrop", "disableUpstreamLogging", "derper"};

const std::map<std::string, std::string, std::less<>> kRemovedOptions = {
    {"ignoreReversePathFilter", "it was replaced by useRoutingFeatures in 23.05 (nixpkgs PR #201119)"},
    {"authKey", "keys are only read from files: use authKeyFile"},
    {"preAuthKey", "keys are only read from files: use authKeyFile"},
    {"loginServer", "it was never a nixpkgs option: use extraUpFlags = [ \"--login-server=URL\" ] or authKeyParameters.baseURL"},
    {"stateDir", "it is not a nixpkgs option: use extraDaemonFlags = [ \"--statedir=DIR\" ]"},
    {"routingSysctls", "it is not a nixpkgs option: useRoutingFeatures sets the forwarding sysctls"},
};

class Checker {
 public:
  Checker(const ModuleSet& set, const HostContext& ctx) : s_(set), ctx_(ctx) {}

  std::vector<Finding> run() {
    collect_facts();
    firewall_disabled();
    conflicts();
    if (!ts_defined_) return std::move(out_);
    enable_rule();
    option_names();
    option_values();
    firewall_rules();
    routing_rules();
    flag_rules();
    auth_rules();
    dns_rules();
    release_rules();
    autoconnect_script();
    inventory();
    return std::move(out_);
  }

 private:
  const ModuleSet& s_;
  const HostContext& ctx_;
  std::vector<Finding> out_;

  struct FlagUse {
    std::string_view text;
    FlagWord word;
    SourceLoc loc;
    bool up;  // in extraUpFlags (else extraSetFlags)
  };
  bool ts_defined_ = false;
  bool ts_enabled_ = false;
  std::string routing_ = "none";  // "" when unknown
  SourceLoc routing_loc_;
  std::string iface_ = "tailscale0";
  bool auth_key_file_ = false;
  std::vector<FlagUse> flags_;
  std::vector<const Definition*> ts_defs_;  // under("services.tailscale")

  void add(const std::string& rule, const SourceLoc& loc, std::string message, std::string fix = "") {
    const RuleInfo* info = find_rule(rule);
    Finding f;
    f.rule = rule;
    f.severity = info ? info->severity : Severity::warning;
    f.subject = {std::string(loc.file), loc.line, loc.col, ctx_.host};
    f.message = std::move(message);
    f.fix = fix.empty() && info ? info->fix : std::move(fix);
    out_.push_back(std::move(f));
  }

  SourceLoc first_loc() const {
    if (!ts_defs_.empty()) return ts_defs_.front()->loc;
    return {s_.files.empty() ? std::string_view() : std::string_view(s_.files.front()), 0, 0};
  }

  std::optional<bool> bool_opt(std::string_view option) const {
    const auto& e = s_.effective(option);
    if (e.state == State::known && e.value.kind == Value::Kind::boolean) return e.value.boolean;
    return std::nullopt;
  }
  std::optional<std::string> string_opt(std::string_view option) const {
    const auto& e = s_.effective(option);
    if (e.state == State::known && e.value.is_plain_string()) return std::string(e.value.text);
    return std::nullopt;
  }

  void collect_facts() {
    ts_defs_ = s_.under("services.tailscale");
    ts_defined_ = !ts_defs_.empty();
    ts_enabled_ = bool_opt("services.tailscale.enable").value_or(false);
    const auto& r = s_.effective("services.tailscale.useRoutingFeatures");
    if (r.state == State::absent) routing_ = "none";
    else if (r.state == State::known && r.value.is_plain_string()) routing_ = r.value.text;
    else routing_ = "";
    if (r.definition) routing_loc_ = r.definition->loc;
    if (auto i = string_opt("services.tailscale.interfaceName")) iface_ = *i;
    const auto& key = s_.effective("services.tailscale.authKeyFile");
    auth_key_file_ = key.state != State::absent && key.value.kind != Value::Kind::null;
    for (bool up : {true, false}) {
      const auto& e = s_.effective(up ? "services.tailscale.extraUpFlags" : "services.tailscale.extraSetFlags");
      if (e.value.kind != Value::Kind::list) continue;
      for (const auto& item : e.value.items) {
        if (!item.is_plain_string()) continue;
        auto w = split_flag_word(item.text);
        flags_.push_back({item.text, w ? *w : FlagWord{"", std::nullopt}, item.loc, up});
      }
    }
  }

  // The last use of flag `name` (the one tailscale applies), if any.
  const FlagUse* flag(std::string_view name) const {
    if (name.empty()) return nullptr;
    for (auto it = flags_.rbegin(); it != flags_.rend(); ++it)
      if (it->word.name == name) return &*it;
    return nullptr;
  }
  bool flag_true(std::string_view name) const {
    const FlagUse* f = flag(name);
    if (!f) return false;
    const auto& v = f->word.value;
    return !v || *v == "true" || *v == "1";
  }
  bool flag_nonempty(std::string_view name) const {
    const FlagUse* f = flag(name);
    return f && f->word.value && !f->word.value->empty();
  }

  void enable_rule() {
    const auto& e = s_.effective("services.tailscale.enable");
    bool other = false;
    for (const auto* d : ts_defs_)
      if (d->option != "services.tailscale" && d->option != "services.tailscale.enable" && !d->option.starts_with("services.tailscale.derper"))
        other = true;
    if (other && (e.state == State::absent || (e.state == State::known && e.value.is_false())))
      add("tailscale-settings-without-enable", e.definition ? e.definition->loc : first_loc(),
          "services.tailscale options are set but services.tailscale.enable is not true: they do nothing");
  }

  void option_names() {
    std::set<std::string, std::less<>> reported;
    for (const auto* d : ts_defs_) {
      if (d->path.size() < 3) continue;
      std::string_view name = d->path[2];
      if (std::find(kTailscaleOptions.begin(), kTailscaleOptions.end(), name) != kTailscaleOptions.end()) {
        if (name == "authKeyParameters" && d->path.size() > 3) {
          static const std::vector<std::string> params = {"ephemeral", "preauthorized", "baseURL"};
          if (std::find(params.begin(), params.end(), d->path[3]) == params.end() && reported.emplace(d->option).second) {
            auto guess = closest_match(d->path[3], params);
            add("unknown-option", d->loc,
                fmt::format("services.tailscale.authKeyParameters.{} does not exist{}", d->path[3],
                            d->path[3] == "reusable" ? ": whether a key is reusable is a property of the key itself"
                            : guess ? fmt::format(": did you mean {}?", *guess) : ": the parameters are ephemeral, preauthorized and baseURL"));
          }
        }
        continue;
      }
      if (!reported.emplace(name).second) continue;
      if (auto it = kRemovedOptions.find(name); it != kRemovedOptions.end()) {
        add("unknown-option", d->loc, fmt::format("services.tailscale.{} does not exist: {}", name, it->second));
        continue;
      }
      auto guess = closest_match(name, kTailscaleOptions);
      add("unknown-option", d->loc,
          fmt::format("services.tailscale.{} does not exist{}", name, guess ? fmt::format(": did you mean services.tailscale.{}?", *guess) : ""));
    }
  }

  void option_values() {
    const auto& r = s_.effective("services.tailscale.useRoutingFeatures");
    if (r.state == State::known && r.value.is_plain_string() && routing_ != "none" && routing_ != "client" && routing_ != "server" && routing_ != "both")
      add("bad-option-value", r.definition->loc,
          fmt::format("useRoutingFeatures = \"{}\" is not one of \"none\", \"client\", \"server\", \"both\"{}", routing_,
                      routing_ == "router" || routing_ == "exit-node" ? " (a router is \"server\", or \"both\" when it also uses routes)" : ""));
    const auto& rp = s_.effective("networking.firewall.checkReversePath");
    if (rp.state == State::known && rp.value.is_plain_string() && rp.value.text != "strict" && rp.value.text != "loose")
      add("bad-option-value", rp.definition->loc, fmt::format("checkReversePath = \"{}\" is not true, false, \"strict\" or \"loose\"", rp.value.text));
    const auto& port = s_.effective("services.tailscale.port");
    if (port.state == State::known && port.value.kind == Value::Kind::integer && (port.value.integer < 0 || port.value.integer > 65535))
      add("bad-option-value", port.definition->loc, fmt::format("services.tailscale.port = {} is not a port (0-65535; 0 picks one)", port.value.integer));
    const auto& iface = s_.effective("services.tailscale.interfaceName");
    if (iface.state == State::known && iface.value.is_plain_string() && iface.value.text.empty())
      add("bad-option-value", iface.definition->loc, "services.tailscale.interfaceName is empty: leave it out for tailscale0");
    const auto& cert = s_.effective("services.tailscale.permitCertUid");
    if (cert.state == State::known && cert.value.is_plain_string() && cert.value.text.empty())
      add("bad-option-value", cert.definition->loc, "services.tailscale.permitCertUid must be a user name or uid, or null");
    const auto& daemon = s_.effective("services.tailscale.extraDaemonFlags");
    for (const auto& item : daemon.value.items) {
      if (!item.is_plain_string()) continue;
      if (find_any(item.text, " \t'\"`$;&|<>\\") != std::string::npos)
        add("daemon-flags-unescaped", item.loc,
            fmt::format("extraDaemonFlags element \"{}\" has spaces or shell characters: the module joins the flags into FLAGS= unescaped", item.text));
    }
  }

  void conflicts() {
    // Each conflicting option once, at its first definition.
    std::unordered_set<std::string_view> reported;
    for (const auto& d : s_.definitions) {
      static constexpr std::string_view watched[] = {"services.tailscale", "networking.firewall", "networking.nat", "networking.nftables",
                                                     "services.resolved", "boot.kernel.sysctl", "systemd.services.tailscaled"};
      bool ours = std::any_of(std::begin(watched), std::end(watched), [&](std::string_view w) { return d.option.starts_with(w); });
      if (!ours) continue;
      const auto& e = s_.effective(d);
      if (e.state != State::conflict) continue;
      if (!reported.insert(d.option).second) continue;
      std::string places;
      for (const auto* w : e.winners) places += fmt::format("{}{}:{}:{}", places.empty() ? "" : ", ", w->loc.file, w->loc.line, w->loc.col);
      add("conflicting-definitions", e.winners.back()->loc,
          fmt::format("{} is defined with different values at the same priority ({}): NixOS refuses to evaluate", d.option, places));
    }
  }

  void firewall_disabled() {
    const auto& fw = s_.effective("networking.firewall.enable");
    if (fw.state == State::known && fw.value.is_false())
      add("firewall-disabled", fw.definition->loc, "networking.firewall.enable = false: every listening service is open to the LAN and the tailnet");
  }

  void firewall_rules() {
    const auto& fw = s_.effective("networking.firewall.enable");
    bool firewall_on = !(fw.state == State::known && fw.value.is_false());
    if (!ts_enabled_) return;
    if (firewall_on && iface_ != "userspace-networking") {
      const auto& ti = s_.effective("networking.firewall.trustedInterfaces");
      bool trusted = false;
      bool unknown = ti.state == State::unknown;
      for (const auto& i : ti.value.items) {
        if (!i.is_plain_string()) unknown = true;
        if (i.text == iface_) trusted = true;
      }
      if (!trusted && !unknown)
        add("tailscale-interface-untrusted", ti.definition ? ti.definition->loc : first_loc(),
            fmt::format("the firewall is on and {} is not in networking.firewall.trustedInterfaces", iface_),
            fmt::format("networking.firewall.trustedInterfaces = [ \"{}\" ];  # tailnet ACLs decide who reaches this host", iface_));
    }
    if (routing_ == "server" || routing_ == "both") {
      const auto& of = s_.effective("services.tailscale.openFirewall");
      bool open = of.state == State::known && of.value.is_true();
      bool unknown = of.state == State::unknown;
      long long port = 41641;
      const auto& p = s_.effective("services.tailscale.port");
      if (p.state == State::known && p.value.kind == Value::Kind::integer) port = p.value.integer;
      const auto& udp = s_.effective("networking.firewall.allowedUDPPorts");
      for (const auto& i : udp.value.items) {
        if (i.kind == Value::Kind::integer && i.integer == port) open = true;
        if (i.kind == Value::Kind::unknown) unknown = true;
      }
      if (!open && !unknown && port != 0)
        add("router-firewall-closed", of.definition ? of.definition->loc : routing_loc_,
            fmt::format("this host routes for the tailnet (useRoutingFeatures = \"{}\") but UDP {} is not open: peers fall back to DERP relays", routing_, port),
            "services.tailscale.openFirewall = true;");
    }
    const auto& nft = s_.effective("networking.nftables.enable");
    if (nft.state == State::known && nft.value.is_true()) {
      const auto& mode = s_.effective("systemd.services.tailscaled.environment.TS_DEBUG_FIREWALL_MODE");
      bool env_list = false;
      const auto& envs = s_.effective("systemd.services.tailscaled.serviceConfig.Environment");
      for (const auto& i : envs.value.items)
        if (i.text.find("TS_DEBUG_FIREWALL_MODE=") != std::string::npos) env_list = true;
      if (envs.value.is_plain_string() && envs.value.text.find("TS_DEBUG_FIREWALL_MODE=") != std::string::npos) env_list = true;
      if (mode.state == State::absent && !env_list)
        add("nftables-without-firewall-mode", nft.definition->loc,
            "networking.nftables.enable = true but tailscaled is not told TS_DEBUG_FIREWALL_MODE=nftables: it uses iptables and IPv6 via exit nodes breaks",
            "systemd.services.tailscaled.environment.TS_DEBUG_FIREWALL_MODE = \"nftables\";");
    }
  }

  void routing_rules() {
    if (!ts_enabled_ || routing_.empty()) return;
    bool uses = flag_nonempty("exit-node") || flag_true("accept-routes");
    bool module_loose = routing_ == "client" || routing_ == "both";
    // The reverse-path filter as NixOS resolves it: the module's "loose" at priority 100 when
    // routing features include client, against the user's definitions.
    const auto& rp = s_.effective("networking.firewall.checkReversePath");
    auto strict = [](const Value& v) { return (v.kind == Value::Kind::boolean && v.boolean) || (v.is_plain_string() && v.text == "strict"); };
    bool user_strict = rp.state == State::known && strict(rp.value);
    int user_prio = rp.definition ? rp.definition->priority : 1000000;
    bool final_strict;
    if (rp.state == State::absent) final_strict = !module_loose;  // NixOS default: strict
    else if (rp.state != State::known) final_strict = false;      // unknown: say nothing
    else if (!module_loose) final_strict = user_strict;
    else final_strict = user_strict && user_prio <= 100;
    if ((uses || module_loose) && final_strict) {
      const FlagUse* why = flag("exit-node") ? flag("exit-node") : flag("accept-routes");
      SourceLoc loc = rp.definition ? rp.definition->loc : why ? why->loc : routing_loc_;
      std::string what = why ? fmt::format("`{}` is used", why->text) : fmt::format("useRoutingFeatures = \"{}\"", routing_);
      if (rp.definition && module_loose && user_prio == 100)
        add("strict-rpfilter-with-routing", loc,
            fmt::format("checkReversePath is set to strict at the same priority as useRoutingFeatures' \"loose\": NixOS reports conflicting definitions ({})", what));
      else
        add("strict-rpfilter-with-routing", loc,
            fmt::format("the reverse-path filter is strict while {}: replies through the exit node or subnet routes are dropped", what),
            module_loose ? "Remove the checkReversePath override (useRoutingFeatures already sets \"loose\")."
                         : "services.tailscale.useRoutingFeatures = \"client\";  # or \"both\"; sets checkReversePath = \"loose\"");
    }
    bool advertises = flag_nonempty("advertise-routes") || flag_true("advertise-exit-node");
    if (advertises && routing_ != "server" && routing_ != "both") {
      const FlagUse* f = flag("advertise-routes") ? flag("advertise-routes") : flag("advertise-exit-node");
      add("advertise-without-forwarding", f->loc,
          fmt::format("`{}` is advertised but useRoutingFeatures = \"{}\": IP forwarding stays off, so nothing is routed", f->text, routing_),
          fmt::format("services.tailscale.useRoutingFeatures = \"{}\";", uses || routing_ == "client" ? "both" : "server"));
    }
    if (iface_ == "userspace-networking" && flag_nonempty("exit-node"))
      add("userspace-exit-node", flag("exit-node")->loc,
          fmt::format("`{}` in userspace-networking mode: without tailscale0 the host's traffic cannot use an exit node", flag("exit-node")->text));
    if (routing_ == "server" || routing_ == "both") {
      static constexpr std::pair<std::string_view, std::string_view> keys[] = {
          {"net.ipv4.conf.all.forwarding", "boot.kernel.sysctl.\"net.ipv4.conf.all.forwarding\""},
          {"net.ipv6.conf.all.forwarding", "boot.kernel.sysctl.\"net.ipv6.conf.all.forwarding\""},
          {"net.ipv4.ip_forward", "boot.kernel.sysctl.\"net.ipv4.ip_forward\""},
      };
      for (const auto& [key, option] : keys) {
        for (const auto* d : s_.all(option)) {
          if (d->priority <= 97) continue;
          bool off = (d->value.kind == Value::Kind::integer && d->value.integer == 0) || d->value.is_false();
          add("forwarding-sysctl-overridden", d->loc,
              fmt::format("boot.kernel.sysctl.\"{}\" is set plainly while useRoutingFeatures = \"{}\" sets forwarding with mkOverride 97: {}", key, routing_,
                          off ? "your value is silently ignored and forwarding stays on" : "this definition is redundant"),
              off ? fmt::format("boot.kernel.sysctl.\"{}\" = lib.mkForce 0;  # only if you really want forwarding off", key)
                  : fmt::format("Remove boot.kernel.sysctl.\"{}\" (the module sets it).", key));
        }
      }
    }
  }

  void flag_rules() {
    const auto& extra_up = s_.effective("services.tailscale.extraUpFlags");
    if (extra_up.state != State::absent && !extra_up.value.items.empty() && !auth_key_file_)
      add("up-flags-without-auth-key", extra_up.definition->loc,
          "services.tailscale.extraUpFlags is set but authKeyFile is not: the module ignores the flags",
          "services.tailscale.extraSetFlags = [ ... ];  # preferences, applied on every boot; or set authKeyFile");
    // The first use of each flag in each list (that passed the checks above), in order.
    std::vector<const FlagUse*> first_value;
    auto first_use = [&](const FlagUse& f) -> const FlagUse* {
      for (const FlagUse* u : first_value)
        if (u->up == f.up && u->word.name == f.word.name) return u;
      return nullptr;
    };
    const bool release_has_set = !ctx_.release || release_has_option(*ctx_.release, "services.tailscale.extraSetFlags");
    for (size_t i = 0; i < flags_.size(); ++i) {
      const FlagUse& f = flags_[i];
      const char* list = f.up ? "extraUpFlags" : "extraSetFlags";
      const char* cmd = f.up ? "up" : "set";
      if (f.word.name.empty()) {
        // A value on its own right after a flag that takes one: ["--flag" "value"].
        if (i > 0 && flags_[i - 1].up == f.up && !flags_[i - 1].word.name.empty() && !flags_[i - 1].word.value) continue;
        add("flag-value-split", f.loc, fmt::format("\"{}\" in {} is not a flag: each element is one --flag=value word", f.text, list));
        continue;
      }
      auto sp = find_any(f.text, " \t");
      if (sp != std::string::npos && (!f.word.value || sp < f.text.find('='))) {
        std::string_view name = f.text.substr(0, sp), value = f.text.substr(sp + 1);
        add("flag-value-split", f.loc,
            fmt::format("\"{}\" in {} is one argv word, so tailscale sees a flag named \"{}\"", f.text, list, f.text),
            fmt::format("\"{}={}\"", name, value));
        continue;
      }
      const TailscaleFlag* tf = find_tailscale_flag(f.word.name);
      if (!tf) {
        auto guess = closest_match(f.word.name, tailscale_flag_names());
        add("unknown-tailscale-flag", f.loc,
            fmt::format("--{} is not a `tailscale {}` flag{}", f.word.name, cmd, guess ? fmt::format(": did you mean --{}?", *guess) : ""));
        continue;
      }
      if (f.word.name == "auth-key" || f.word.name == "authkey" || f.word.name == "client-secret") {
        add("auth-key-flag", f.loc, fmt::format("--{} in {}: the key belongs in services.tailscale.authKeyFile", f.word.name, list));
        continue;
      }
      if ((f.up && !tf->up) || (!f.up && !tf->set)) {
        add("flag-wrong-command", f.loc,
            fmt::format("--{} is not accepted by `tailscale {}`{}", f.word.name, cmd,
                        f.up ? ": put it in extraSetFlags" : tf->up ? ": it is a login-time flag, put it in extraUpFlags (with authKeyFile)" : ""));
        continue;
      }
      if (!f.word.value && tf->value != FlagValue::boolean) {
        bool next_is_value = i + 1 < flags_.size() && flags_[i + 1].up == f.up && flags_[i + 1].word.name.empty();
        if (next_is_value) {
          add("flag-value-split", f.loc,
              fmt::format("--{} and its value \"{}\" are two elements: tailscale reads the flag without a value", f.word.name, flags_[i + 1].text),
              fmt::format("\"--{}={}\"", f.word.name, flags_[i + 1].text));
          continue;
        }
      }
      if (auto why = check_flag_value(*tf, f.word.value)) {
        add("bad-flag-value", f.loc, *why);
        continue;
      }
      if (const FlagUse* first = first_use(f)) {
        std::string_view value = f.word.value ? std::string_view(*f.word.value) : std::string_view("true");
        std::string_view first_value_text = first->word.value ? std::string_view(*first->word.value) : std::string_view("true");
        if (first_value_text != value)
          add("flag-conflict", f.loc,
              fmt::format("--{} is given twice in {} with different values (\"{}\" and \"{}\"): the last one wins", f.word.name, list,
                          first->text, f.text));
      } else {
        first_value.push_back(&f);
      }
      if (f.up && is_preference(*tf) && release_has_set)
        add("persistent-pref-in-up-flags", f.loc,
            fmt::format("--{} is a preference, but extraUpFlags apply only at login: later changes fail with \"requires mentioning all non-default flags\"", f.word.name),
            fmt::format("services.tailscale.extraSetFlags = [ \"{}\" ];", f.text));
    }
    if (flag_true("exit-node-allow-lan-access") && !flag_nonempty("exit-node"))
      add("flag-conflict", flag("exit-node-allow-lan-access")->loc, "--exit-node-allow-lan-access needs --exit-node: tailscale refuses it alone");
  }

  void auth_rules() {
    const auto& key = s_.effective("services.tailscale.authKeyFile");
    for (const auto* d : s_.all("services.tailscale.authKeyFile")) {
      if (d->value.kind == Value::Kind::path)
        add("auth-key-path-literal", d->loc,
            fmt::format("authKeyFile = {} is a path literal: Nix copies the key into /nix/store, readable by every local user", d->value.text),
            "services.tailscale.authKeyFile = config.sops.secrets.tailscale.path;  # or \"/run/keys/tailscale\" (a string)");
      if (d->value.is_plain_string() && d->value.text.rfind("/nix/store", 0) == 0)
        add("auth-key-path-literal", d->loc, "authKeyFile points into /nix/store, which every local user can read");
    }
    const auto& ref = key.value.ref;
    if (key.state == State::unknown && ref.size() == 5 && ref[0] == "config" && ref[1] == "sops" && ref[2] == "secrets" && ref[4] == "path") {
      {
        std::string name(ref[3]);
        std::string base = "sops.secrets." + join_option_path({name});
        const auto& restart = s_.effective(base + ".restartUnits");
        bool declared = s_.defines_under(base);
        bool ok = false;
        for (const auto& i : restart.value.items)
          if (i.text == "tailscaled-autoconnect.service") ok = true;
        if (declared && !ok && restart.state != State::unknown)
          add("sops-secret-no-restart", (restart.definition ? restart.definition->loc : s_.all(base).empty() ? key.definition->loc : s_.all(base).front()->loc),
              fmt::format("sops secret \"{}\" holds the auth key but does not restart tailscaled-autoconnect.service when it changes", name),
              fmt::format("sops.secrets.{}.restartUnits = [ \"tailscaled-autoconnect.service\" ];", join_option_path({name})));
      }
    }
  }

  void dns_rules() {
    if (!ts_enabled_) return;
    auto resolved = bool_opt("services.resolved.enable").value_or(false);
    const auto& resolvconf = s_.effective("networking.resolvconf.enable");
    if (resolved && resolvconf.state == State::known && resolvconf.value.is_true())
      add("dns-conflict", resolvconf.definition->loc, "systemd-resolved and resolvconf are both enabled: they fight over /etc/resolv.conf and MagicDNS breaks",
          "networking.resolvconf.enable = false;  # resolved manages /etc/resolv.conf");
    const FlagUse* dns_flag = flag("accept-dns");
    bool accept_dns = !(dns_flag && dns_flag->word.value && *dns_flag->word.value == "false");
    if (resolved && accept_dns) {
      for (const char* opt : {"services.resolved.dnsovertls", "services.resolved.settings.Resolve.DNSOverTLS"}) {
        const auto& e = s_.effective(opt);
        if (e.state == State::known && ((e.value.is_plain_string() && (e.value.text == "true" || e.value.text == "yes")) || e.value.is_true()))
          add("dns-conflict", e.definition->loc,
              "strict DNS-over-TLS with MagicDNS: resolved will not query 100.100.100.100, which speaks plain DNS, so tailnet names stop resolving",
              fmt::format("{} = \"opportunistic\";", opt));
      }
    }
    const auto& ns = s_.effective("networking.nameservers");
    for (const auto& i : ns.value.items)
      if (i.is_plain_string() && i.text.rfind("100.100.100.100", 0) == 0)
        add("magicdns-resolver-hardcoded", i.loc, "100.100.100.100 is listed in networking.nameservers: name resolution breaks whenever Tailscale is down");
  }

  void release_rules() {
    if (!ctx_.release) return;
    std::set<std::string> reported;
    for (const auto& d : s_.definitions) {
      const OptionGate* g = find_option_gate(d.option);
      if (!g || ctx_.release->at_least(g->since) || !reported.insert(g->option).second) continue;
      std::string instead;
      if (g->option == "services.tailscale.extraSetFlags") instead = ": put the flags in extraUpFlags (with authKeyFile), or run `tsfleet up` after deploying";
      else if (g->option == "services.tailscale.disableUpstreamLogging") instead = ": use extraDaemonFlags = [ \"--no-logs-no-support\" ] (24.05+)";
      else if (g->option == "services.tailscale.disableTaildrop") instead = ": set systemd.services.tailscaled.environment.TS_DISABLE_TAILDROP = \"true\"";
      else if (g->option == "services.tailscale.openFirewall") instead = ": open the port with networking.firewall.allowedUDPPorts";
      else if (g->option == "services.resolved.settings") instead = ": use the flat services.resolved options (dnssec, dnsovertls, fallbackDns)";
      add("option-needs-newer-release", d.loc,
          fmt::format("{} does not exist in NixOS {} (it appeared in {}, {}){}", g->option, ctx_.release->to_string(), g->since.to_string(),
                      g->reference, instead));
    }
  }

  void autoconnect_script() {
    for (const auto& d : s_.definitions) {
      if (d.path.size() != 4 || d.path[0] != "systemd" || d.path[1] != "services" || d.path[3] != "script") continue;
      if (d.path[2].find("tailscale") == std::string::npos) continue;
      std::string_view t = d.value.text;
      bool up = t.find("tailscale up") != std::string::npos || t.find("tailscale\" up") != std::string::npos ||
                t.find("/bin/tailscale up") != std::string::npos;
      bool key_arg = t.find("authkey") != std::string::npos || t.find("auth-key") != std::string::npos;
      if (up && key_arg && t.find("file:") == std::string::npos)
        add("autoconnect-key-in-argv", d.loc,
            fmt::format("systemd.services.{}.script runs `tailscale up` with the key on its command line{}", join_option_path({d.path[2]}),
                        t.find("sleep") != std::string::npos ? " after a fixed sleep" : ""),
            "services.tailscale.authKeyFile = config.sops.secrets.tailscale.path;  # and drop the hand-written unit");
    }
  }

  void inventory() {
    if (!ctx_.plan || !ts_enabled_ || routing_.empty()) return;
    const HostPlan& p = *ctx_.plan;
    std::string want = to_string(p.routing);
    if (routing_ != want)
      add("module-disagrees-with-inventory", routing_loc_.file.empty() ? first_loc() : routing_loc_,
          fmt::format("useRoutingFeatures = \"{}\" but the fleet file makes host {} \"{}\"", routing_, p.name, want),
          fmt::format("services.tailscale.useRoutingFeatures = \"{}\";  # or `tsfleet configure --host {}`", want, p.name));
    // Preferences the modules do not state (no extraSetFlags/extraUpFlags at all: `tsfleet up`
    // or something else applies them) are unknown here, not different.
    if (s_.all("services.tailscale.extraSetFlags").empty() && s_.all("services.tailscale.extraUpFlags").empty()) return;
    auto routes_of = [](const std::string& csv) {
      std::set<std::string> out;
      size_t start = 0;
      while (start < csv.size()) {
        size_t c = csv.find(',', start);
        std::string item = csv.substr(start, c == std::string::npos ? std::string::npos : c - start);
        if (auto cidr = parse_cidr(item)) out.insert(cidr->to_string());
        if (c == std::string::npos) break;
        start = c + 1;
      }
      return out;
    };
    std::set<std::string> want_routes(p.prefs.advertise_routes.begin(), p.prefs.advertise_routes.end());
    const FlagUse* ar = flag("advertise-routes");
    std::set<std::string> have = ar && ar->word.value ? routes_of(*ar->word.value) : std::set<std::string>{};
    if ((ar || !want_routes.empty()) && have != want_routes) {
      std::string w, h;
      for (const auto& r : want_routes) w += (w.empty() ? "" : ",") + r;
      for (const auto& r : have) h += (h.empty() ? "" : ",") + r;
      add("module-disagrees-with-inventory", ar ? ar->loc : first_loc(),
          fmt::format("the module advertises routes [{}] but the fleet file gives host {} [{}]", h, p.name, w));
    }
    if (flag_true("advertise-exit-node") != p.prefs.advertise_exit_node)
      add("module-disagrees-with-inventory", flag("advertise-exit-node") ? flag("advertise-exit-node")->loc : first_loc(),
          fmt::format("the module {} an exit node but in the fleet file host {} {}", flag_true("advertise-exit-node") ? "offers" : "does not offer",
                      p.name, p.prefs.advertise_exit_node ? "has the exit-node role" : "does not have the exit-node role"));
    const FlagUse* en = flag("exit-node");
    std::string have_exit = en && en->word.value ? *en->word.value : "";
    if (have_exit != p.prefs.exit_node.value_or(""))
      add("module-disagrees-with-inventory", en ? en->loc : first_loc(),
          fmt::format("the module uses exit node \"{}\" but the fleet file gives host {} \"{}\"", have_exit, p.name, p.prefs.exit_node.value_or("")));
  }
};

}  // namespace

std::vector<Finding> check_module_set(const ModuleSet& set, const HostContext& context) { return Checker(set, context).run(); }

std::vector<Finding> check_file_text(const std::string& file, std::string_view text) {
  std::vector<Finding> out;
  const RuleInfo* info = find_rule("auth-key-literal");
  static constexpr std::string_view needle = "tskey-";
  // The next "tskey-" at or after `from`: memchr for its 'k', rarer in Nix than the 't' find()
  // looks for first (three times faster on modules).
  auto find_key = [&](size_t from) -> size_t {
    const char* begin = text.data();
    const char* end = begin + text.size();
    for (const char* p = begin + std::min(text.size(), from + 2);;) {
      const char* k = static_cast<const char*>(std::memchr(p, 'k', static_cast<size_t>(end - p)));
      if (!k || end - k < 4) return std::string_view::npos;
      if (std::memcmp(k - 2, needle.data(), needle.size()) == 0) return static_cast<size_t>(k - 2 - begin);
      p = k + 1;
    }
  };
  size_t pos = 0;
  // Line and column of `counted`, counted from the last hit on.
  size_t counted = 0;
  unsigned line = 1, col = 1;
  while (pos < text.size()) {
    pos = find_key(pos);
    if (pos == std::string_view::npos) break;
    for (; counted < pos; ++counted) {
      if (text[counted] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
    }
    Finding f;
    f.rule = info->id;
    f.severity = info->severity;
    f.subject = {file, line, col, ""};
    f.message = "a Tailscale key is written into this file (not shown here): it is in the repository and can end up in the world-readable store";
    f.fix = info->fix;
    out.push_back(f);
    pos += needle.size();
    while (pos < text.size() && text[pos] != '\n') ++pos;  // one finding per line
  }
  return out;
}

std::vector<Finding> check_fleet(const Fleet& fleet, const std::vector<HostPlan>& plans) {
  std::vector<Finding> out;
  auto add = [&](const std::string& rule, const std::string& host, std::string message, std::string fix) {
    const RuleInfo* info = find_rule(rule);
    Finding f;
    f.rule = rule;
    f.severity = info->severity;
    f.subject = {fleet.source, 0, 0, host};
    f.message = std::move(message);
    f.fix = std::move(fix);
    out.push_back(std::move(f));
  };
  std::vector<size_t> routers;  // only hosts with routes can overlap
  for (size_t i = 0; i < fleet.hosts.size(); ++i)
    if (!fleet.hosts[i].routes.empty()) routers.push_back(i);
  for (size_t ri = 0; ri < routers.size(); ++ri) {
    for (size_t rj = ri + 1; rj < routers.size(); ++rj) {
      size_t i = routers[ri], j = routers[rj];
      for (const auto& a : fleet.hosts[i].routes) {
        for (const auto& b : fleet.hosts[j].routes) {
          if (a == b || !a.overlaps(b)) continue;
          add("overlapping-routes", fleet.hosts[j].name,
              fmt::format("host {} advertises {} and host {} advertises {}: they overlap, so part of the larger one goes through the other router",
                          fleet.hosts[i].name, a.to_string(), fleet.hosts[j].name, b.to_string()),
              "Advertise identical prefixes (a high-availability pair) or prefixes that do not overlap.");
        }
      }
    }
  }
  if (fleet.tag_owners) {
    for (const auto& h : fleet.hosts)
      for (const auto& t : h.tags)
        if (!fleet.tag_owners->count(t))
          add("tag-without-owner", h.name, fmt::format("host {} advertises {}, which no one owns in tag_owners: logging in with it fails", h.name, t),
              fmt::format("Add \"{}\" to tagOwners in the tailnet policy and to tag_owners in the fleet file.", t));
  }
  (void)plans;
  return out;
}

std::string render_rules_markdown() {
  std::string md =
      "# Rules of `tsfleet check`\n\n"
      "Generated from the rule catalogue (`src/lib/lint/rules.cpp`) by `tsfleet check --list-rules --format markdown`;\n"
      "a test keeps this file and the catalogue equal. Every example is tested: the bad one fires the rule, the good one does not.\n\n"
      "Suppress a finding with a comment on its line or the line above: `# tsfleet: ignore RULE` (several: `RULE1,RULE2`),\n"
      "or for a whole file: `# tsfleet: ignore-file RULE`. Disable a rule everywhere with `--disable RULE`.\n\n"
      "| rule | severity | what |\n|---|---|---|\n";
  for (const auto& r : rule_catalogue()) md += fmt::format("| [`{}`](#{}) | {} | {} |\n", r.id, r.id, to_string(r.severity), r.title);
  for (const auto& r : rule_catalogue()) {
    const char* lang = r.example_kind == "fleet" ? "json" : "nix";
    md += fmt::format("\n## {}\n\n**{}** ({}).{}\n\n**Why:** {}\n\n**Fix:** {}\n\nBad:\n\n```{}\n{}\n```\n\nGood:\n\n```{}\n{}\n```\n", r.id,
                      r.title, to_string(r.severity),
                      r.example_release.empty() ? "" : fmt::format(" The examples target NixOS {}.", r.example_release), r.why, r.fix, lang,
                      r.bad, lang, r.good);
  }
  return md;
}

}  // namespace tsfleet::lint
