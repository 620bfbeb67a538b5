#pragma once
// The fleet inventory (tsfleet.json, docs/fleet.md, schema/tsfleet.schema.json): what each host
// is for. Loading validates everything a person can get wrong and names the place; plan() (in
// plan.h) then derives what each role means. Nothing here knows what a role implies.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/cidr.h"
#include "tsfleet/json_source.h"
#include "tsfleet/release.h"

namespace tsfleet {

inline constexpr int kFleetSchemaVersion = 1;

struct Roles {
  bool client = false;         // uses the tailnet (every host does; listed for clarity)
  bool subnet_router = false;  // advertises `routes`
  bool exit_node = false;      // offers itself as an exit node
  bool offers_routing() const { return subnet_router || exit_node; }
};

// Where the auth key lives. It is always a file at run time; never a literal in the inventory.
struct AuthKeySource {
  enum class Kind { none, sops, agenix, path };
  Kind kind = Kind::none;
  std::string name;                 // sops / agenix secret name
  std::optional<std::string> file;  // sops_file / age_file, relative to the generated module
  std::string path;                 // Kind::path: absolute path outside /nix/store
  // authKeyParameters (OAuth client secrets); nullopt means not set.
  std::optional<bool> ephemeral;
  std::optional<bool> preauthorized;
  std::optional<std::string> base_url;
};

struct DnsSettings {
  enum class Mode { tailscale, resolved };
  Mode mode = Mode::tailscale;
  std::vector<std::string> upstreams;  // resolved: DNS= servers, e.g. "1.1.1.1#cloudflare-dns.com"
  std::vector<std::string> fallback;   // resolved: FallbackDNS=
  std::string dnssec;                  // resolved: "true" | "allow-downgrade" | "false" | ""
  std::string dns_over_tls;            // resolved: "true" | "opportunistic" | "false" | ""
};

struct FirewallSettings {
  bool open_firewall = true;
  std::vector<std::string> trusted_interfaces;  // empty means: the tailscale interface
  bool trusted_interfaces_set = false;
};

struct HealthCheck {
  bool enable = false;
  std::string interval = "5min";  // systemd time span
  bool restart = true;            // restart tailscaled when not Running (the seed's timer)
};

struct Host {
  std::string name;         // inventory key: a DNS label, also the directory name
  std::string description;
  std::string hostname;     // tailnet hostname; empty means: not set (the OS hostname)
  Roles roles;
  std::vector<Cidr> routes;
  std::optional<std::string> exit_node;  // an inventory host offering exit-node, or "auto:any"
  bool exit_node_allow_lan_access = false;
  bool accept_routes = false;
  bool accept_dns = true;
  std::vector<std::string> tags;  // "tag:name"
  std::optional<std::string> lan_interface;
  AuthKeySource auth_key;
  std::optional<std::string> login_server;
  DnsSettings dns;
  FirewallSettings firewall;
  int port = 41641;
  std::string interface_name = "tailscale0";
  bool userspace_networking = false;
  std::string netfilter_mode = "on";  // on | nodivert | off
  bool nftables = false;
  bool no_logs = false;
  bool disable_taildrop = false;
  std::optional<std::string> permit_cert_uid;
  bool ssh = false;
  std::optional<std::string> operator_user;
  HealthCheck health_check;
  bool network_tuning = false;
  std::vector<std::string> extra_up_flags;
  std::vector<std::string> extra_set_flags;
  std::vector<std::string> extra_daemon_flags;
};

struct Fleet {
  std::string source;  // the file it came from, or "<embedded default fleet>"
  std::string tailnet;
  NixosRelease release;
  // The tailnet policy's tagOwners, when the fleet file lists them (check warns about host tags
  // no one owns); nullopt when not given.
  std::optional<std::map<std::string, std::vector<std::string>>> tag_owners;
  std::vector<Host> hosts;  // in inventory order

  const Host* find(std::string_view name) const;
};

// Loads and validates a fleet from JSON text. Throws tsfleet::Error(input) whose message names
// file:line:col and the JSON path, says what is wrong and what to write instead. Secrets are
// never echoed: an inline auth key is refused without repeating it.
Fleet load_fleet(std::string_view text, std::string_view filename);

// Reads the file and loads it (Error(io) when unreadable).
Fleet load_fleet_file(const std::string& path);

// The embedded default fleet: the seeds' P620 and P510 routers and Razer and Samsung clients.
std::string_view embedded_default_fleet_json();
Fleet load_default_fleet();
inline constexpr std::string_view kEmbeddedFleetName = "<embedded default fleet>";

// Every key a host (and `defaults`) accepts, for docs, did-you-mean and completion.
const std::vector<std::string>& host_keys();

// Whether `s` is a valid DNS label as tailscale accepts hostnames: 1-63 chars of [a-z0-9-],
// not starting or ending with '-'.
bool is_valid_hostname(std::string_view s);
// Whether `s` is a valid ACL tag: "tag:" then a letter, then letters, digits or '-'.
bool is_valid_tag(std::string_view s);

}  // namespace tsfleet
