#pragma once
// plan(): the one place that decides what a host's role means. configure, up, check, status,
// test and doctor read HostPlans; none of them derives role logic of its own.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "tsfleet/fleet.h"

namespace tsfleet {

enum class RoutingFeatures { none, client, server, both };
std::string to_string(RoutingFeatures f);  // "none" | "client" | "server" | "both"

// The tailscale preferences a host should have (what `tailscale up`/`set` flags express).
struct DesiredPrefs {
  std::string hostname;  // empty: not managed
  bool accept_routes = false;
  bool accept_dns = true;
  std::optional<std::string> exit_node;  // the exit node's tailnet hostname, or "auto:any"
  bool exit_node_allow_lan_access = false;
  std::vector<std::string> advertise_routes;  // canonical CIDRs
  bool advertise_exit_node = false;
  std::vector<std::string> advertise_tags;
  std::string netfilter_mode = "on";
  bool ssh = false;
  std::optional<std::string> operator_user;
  std::optional<std::string> login_server;
};

// Flags, each one `--flag=value` argv word. Login-time flags only take effect when logging in
// (`tailscale up`); persistent flags are prefs that `tailscale set` applies at any time.
std::vector<std::string> login_flags(const DesiredPrefs& prefs);
std::vector<std::string> persistent_flags(const DesiredPrefs& prefs);

// How the host gets its auth key at boot.
struct SecretWiring {
  AuthKeySource::Kind kind = AuthKeySource::Kind::none;
  std::string name;                         // sops / agenix secret name
  std::optional<std::string> encrypted_file;  // relative path of the sops / age file, if given
  std::string runtime_path;                 // where the decrypted key is at run time
  std::vector<std::string> restart_units;   // sops-nix restartUnits
  bool parameters = false;                  // authKeyParameters are set
  std::optional<bool> ephemeral, preauthorized;
  std::optional<std::string> base_url;
};

struct NatPlan {
  std::string external_interface;
  std::vector<std::string> internal_interfaces;
};

struct DnsPlan {
  DnsSettings::Mode mode = DnsSettings::Mode::tailscale;
  bool resolved = false;
  bool resolved_settings_style = false;  // RFC42 services.resolved.settings.Resolve.* (newer nixpkgs)
  std::vector<std::string> upstreams, fallback;
  std::string dnssec, dns_over_tls;
};

struct SysctlValue {
  std::string text;  // rendered as a Nix string unless numeric
  bool numeric = false;
};

// What the live tailnet should show for this host (test, monitor, status compare against it).
struct Expectations {
  bool reachable_directly = false;            // routers should not be relayed
  std::vector<std::string> offered_routes;    // routes this host must serve as primary or secondary
  bool offers_exit_node = false;
  std::optional<std::string> uses_exit_node;  // hostname of the exit node in use
  bool accepts_routes = false;
};

struct HostPlan {
  std::string name;
  std::string description;
  Roles roles;
  NixosRelease release;
  RoutingFeatures routing = RoutingFeatures::none;
  DesiredPrefs prefs;

  // services.tailscale
  int port = 41641;
  std::string interface_name = "tailscale0";  // "userspace-networking" in that mode
  bool open_firewall = false;
  bool open_firewall_option = true;           // false: the release lacks openFirewall, open the port by hand
  std::vector<std::string> up_flags;          // extraUpFlags (only with an auth key)
  std::vector<std::string> set_flags;         // extraSetFlags
  std::vector<std::string> daemon_flags;      // extraDaemonFlags
  std::optional<std::string> permit_cert_uid;
  bool disable_upstream_logging_option = false;  // services.tailscale.disableUpstreamLogging
  bool disable_taildrop_option = false;           // services.tailscale.disableTaildrop
  std::map<std::string, std::string> daemon_env;  // systemd.services.tailscaled.environment
  SecretWiring secret;
  bool auth_key_file_option = true;  // false: the release has no authKeyFile

  // networking
  std::vector<std::string> trusted_interfaces;
  std::optional<std::string> check_reverse_path;  // "loose" when routing features need it
  std::optional<NatPlan> nat;
  bool nftables = false;
  DnsPlan dns;

  std::map<std::string, SysctlValue> sysctls;
  std::vector<std::string> kernel_modules;
  std::optional<HealthCheck> health_check;

  Expectations expect;

  // Findings of `tsfleet check` that the fleet file asked for on purpose (rule id, reason): the
  // module carries `# tsfleet: ignore-file RULE` for them, so check stays quiet about a choice
  // the inventory made explicitly.
  std::vector<std::pair<std::string, std::string>> accepted_findings;

  // What the plan had to do differently for the target release, or what the user must do by
  // hand (configure prints these on stderr).
  std::vector<std::string> notes;
};

// Derives the plan for every host. Throws Error(input) when the inventory asks for something the
// target release cannot express (with the reason and the fix).
std::vector<HostPlan> plan(const Fleet& fleet);
HostPlan plan_host(const Fleet& fleet, const Host& host);

}  // namespace tsfleet
