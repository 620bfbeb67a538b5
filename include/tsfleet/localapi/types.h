#pragma once
// Typed views of the tailscaled LocalAPI JSON (docs: /work/shared/reference/tailscale-api.md §3).
//
// The LocalAPI is not a stable API, so these types are deliberately lenient: every key is
// optional (an absent or null key leaves the member at its default), unknown keys are ignored,
// and a key of the wrong type is skipped and reported as a ParseWarning naming its key path.
// Only malformed JSON (a syntax error, truncation) is an error.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet::localapi {

// A key whose value had an unexpected type (or was out of range) and was skipped.
struct ParseWarning {
  std::string path;     // e.g. `Peer["nodekey:ab…"].Online`
  std::string message;  // e.g. `expected bool, got string`
};

// Receives the warnings of one parse. At most `limit` are kept; `dropped` counts the rest, so a
// hostile document cannot make us allocate without bound.
struct ParseWarnings {
  std::vector<ParseWarning> items;
  std::size_t dropped = 0;
  std::size_t limit = 100;
  bool empty() const { return items.empty() && dropped == 0; }
};

// ipn.State as a string (Status.BackendState) and as an int (Notify.State).
enum class BackendState {
  no_state = 0,
  in_use_other_user = 1,
  needs_login = 2,
  needs_machine_auth = 3,
  stopped = 4,
  starting = 5,
  running = 6,
  unknown = -1,  // a string or number this version of tsfleet does not know
};

// "Running" -> running; anything unknown -> BackendState::unknown.
BackendState backend_state_from_string(std::string_view s) noexcept;
// 6 -> running; out of range -> BackendState::unknown.
BackendState backend_state_from_int(std::int64_t n) noexcept;
// running -> "Running"; unknown -> "unknown".
std::string_view to_string(BackendState s) noexcept;

// Prefs.NetfilterMode: an int in JSON.
enum class NetfilterMode { off = 0, nodivert = 1, on = 2, unknown = -1 };
NetfilterMode netfilter_mode_from_int(std::int64_t n) noexcept;
std::string_view to_string(NetfilterMode m) noexcept;  // "off" | "nodivert" | "on" | "unknown"

// ipnstate.PeerStatus: Status.Self and the values of Status.Peer.
struct PeerStatus {
  std::string id;            // ID (StableNodeID)
  std::int64_t node_id = 0;  // NodeID (v1.100+)
  std::string public_key;    // PublicKey "nodekey:…"
  std::string host_name;     // HostName (OS hostname, not unique)
  std::string dns_name;      // DNSName, FQDN with a trailing dot
  std::string os;            // OS
  std::int64_t user_id = 0;
  std::vector<std::string> tailscale_ips;
  std::vector<std::string> allowed_ips;
  std::vector<std::string> tags;
  std::vector<std::string> primary_routes;
  std::vector<std::string> addrs;  // candidate endpoints
  std::string cur_addr;            // direct endpoint or ""
  std::string relay;               // home DERP region code, e.g. "fra"
  std::string peer_relay;          // "ip:port:vni:N" (v1.86+)
  std::int64_t rx_bytes = 0;
  std::int64_t tx_bytes = 0;
  std::string created, last_write, last_seen,
      last_handshake;      // RFC 3339; zero "0001-01-01T00:00:00Z"
  std::string key_expiry;  // RFC 3339 or "" when absent
  bool online = false;
  bool exit_node = false;         // in use as our exit node
  bool exit_node_option = false;  // offers (approved) exit node
  bool active = false;
  bool share_node = false;  // ShareeNode
  bool in_network_map = false, in_magic_sock = false, in_engine = false;
  bool expired = false;
  std::vector<std::string> peer_api_url;
};

struct TailnetStatus {
  std::string name;
  std::string magic_dns_suffix;
  bool magic_dns_enabled = false;
};

struct ExitNodeStatus {
  std::string id;
  bool online = false;
  std::vector<std::string> tailscale_ips;
};

struct UserProfile {
  std::int64_t id = 0;
  std::string login_name;
  std::string display_name;
  std::string profile_pic_url;
};

struct ClientVersion {
  bool running_latest = false;
  std::string latest_version;
  bool urgent_security_update = false;
  bool notify = false;
  std::string notify_url;
  std::string notify_text;
};

// ipnstate.Status (GET status).
struct Status {
  std::string version;
  bool tun = false;
  std::string backend_state_text;  // BackendState exactly as sent
  BackendState backend_state = BackendState::unknown;
  bool have_node_key = false;
  std::string auth_url;
  std::vector<std::string> tailscale_ips;
  bool has_self = false;  // whether Self was present and an object
  PeerStatus self;
  std::optional<ExitNodeStatus> exit_node_status;
  std::vector<std::string> health;
  std::string magic_dns_suffix;
  std::optional<TailnetStatus> current_tailnet;
  std::vector<std::string> cert_domains;
  std::map<std::string, PeerStatus> peer;   // keyed by "nodekey:…"
  std::map<std::string, UserProfile> user;  // keyed by decimal UserID
  std::optional<ClientVersion> client_version;
};

struct AutoUpdatePrefs {
  std::optional<bool> check;
  std::optional<bool> apply;  // opt.Bool: null means unset
};

// ipn.Prefs (GET prefs, PATCH prefs reply, Notify.Prefs).
struct Prefs {
  std::string control_url;
  bool route_all = false;  // --accept-routes
  std::string exit_node_id;
  std::string exit_node_ip;
  std::string auto_exit_node;
  bool exit_node_allow_lan_access = false;
  bool corp_dns = false;  // --accept-dns
  bool run_ssh = false;
  bool run_web_client = false;
  bool want_running = false;
  bool logged_out = false;
  bool shields_up = false;
  std::vector<std::string> advertise_tags;
  std::string hostname;
  bool notepad_urls = false;
  bool force_daemon = false;
  bool egg = false;
  std::vector<std::string> advertise_routes;
  std::vector<std::string> advertise_services;
  bool no_snat = false;
  std::optional<bool> no_stateful_filtering;  // opt.Bool
  std::int64_t netfilter_mode_raw = 2;        // as sent; default "on"
  NetfilterMode netfilter_mode = NetfilterMode::on;
  std::string operator_user;
  std::string profile_name;
  AutoUpdatePrefs auto_update;
  bool app_connector_advertise = false;  // AppConnector.Advertise
  bool posture_checking = false;
  std::string netfilter_kind;
  std::optional<std::int64_t> relay_server_port;  // null/absent: disabled
};

// The "<Field>Set" style patch for PATCH prefs (ipn.MaskedPrefs). Only engaged members are sent.
struct PrefsPatch {
  std::optional<std::string> control_url;
  std::optional<bool> route_all;
  std::optional<std::string> exit_node_id;
  std::optional<std::string> exit_node_ip;
  std::optional<bool> exit_node_allow_lan_access;
  std::optional<bool> corp_dns;
  std::optional<bool> run_ssh;
  std::optional<bool> run_web_client;
  std::optional<bool> want_running;
  std::optional<bool> shields_up;
  std::optional<std::vector<std::string>> advertise_tags;
  std::optional<std::string> hostname;
  std::optional<std::vector<std::string>> advertise_routes;
  std::optional<bool> no_snat;
  std::optional<bool> no_stateful_filtering;
  std::optional<NetfilterMode> netfilter_mode;
  std::optional<std::string> operator_user;
  std::optional<bool> posture_checking;
  bool empty() const;
};

// The MaskedPrefs JSON body for a patch: each engaged field plus its `<Field>Set:true`.
std::string to_masked_prefs_json(const PrefsPatch& patch);

// ipnstate.PingResult (POST ping).
struct PingResult {
  std::string ip;
  std::string node_ip;
  std::string node_name;
  std::string err;  // non-empty means failure
  double latency_seconds = 0;
  std::string endpoint;    // direct ip:port
  std::string peer_relay;  // ip:port:vni:N
  std::int64_t derp_region_id = 0;
  std::string derp_region_code;
  std::int64_t peer_api_port = 0;
  std::string peer_api_url;
  bool is_local_ip = false;
};

// tailcfg.Node as far as whois callers need it.
struct WhoIsNode {
  std::int64_t id = 0;
  std::string stable_id;
  std::string name;  // FQDN with trailing dot
  std::int64_t user = 0;
  std::string key;
  std::vector<std::string> addresses;
  std::vector<std::string> allowed_ips;
  std::vector<std::string> tags;
  std::vector<std::string> primary_routes;
  std::string computed_name;
  std::string host_name;  // Hostinfo.Hostname
  std::string os;         // Hostinfo.OS
};

// GET whois.
struct WhoIs {
  WhoIsNode node;
  UserProfile user_profile;
  std::vector<std::string> cap_map_keys;  // the capability names in CapMap
};

struct DerpNode {
  std::string name;
  std::int64_t region_id = 0;
  std::string host_name;
  std::string ipv4, ipv6;
  std::int64_t stun_port = 0, derp_port = 0;  // STUNPort: 0 means 3478, -1 no STUN
  bool stun_only = false;
  std::string stun_test_ip;  // overrides the STUN server's address (tailscale's tests use it)
};

struct DerpRegion {
  std::int64_t region_id = 0;
  std::string region_code;
  std::string region_name;
  bool avoid = false;
  std::vector<DerpNode> nodes;
};

// GET derpmap (tailcfg.DERPMap); Regions keyed by the decimal region ID.
struct DerpMap {
  std::map<std::string, DerpRegion> regions;
  bool omit_default_regions = false;
};

struct HealthWarning {
  std::string warnable_code;
  std::string severity;  // high | medium | low
  std::string title;
  std::string text;
  std::string broken_since;
  bool impacts_connectivity = false;
};

struct EngineStatus {
  std::int64_t rbytes = 0, wbytes = 0;
  std::int64_t num_live = 0;
  std::int64_t live_derps = 0;
};

// ipn.Notify: one line of watch-ipn-bus. Each member is engaged only if the key was present and
// non-null ("unchanged fields are null or omitted").
struct Notify {
  std::optional<std::string> version;
  std::optional<std::string> session_id;
  std::optional<std::string> err_message;
  bool login_finished = false;
  std::optional<BackendState> state;
  std::optional<std::int64_t> state_raw;
  std::optional<Prefs> prefs;
  std::optional<EngineStatus> engine;
  std::optional<std::string> browse_to_url;
  // Health.Warnings keyed by warnable code; engaged when Health was present.
  std::optional<std::map<std::string, HealthWarning>> health;
};

// watch-ipn-bus mask bits (tailscale-api.md §3.6).
namespace notify_mask {
inline constexpr std::uint64_t engine_updates = 1;
inline constexpr std::uint64_t initial_state = 2;
inline constexpr std::uint64_t initial_prefs = 4;
inline constexpr std::uint64_t initial_netmap = 8;
inline constexpr std::uint64_t no_private_keys = 16;
inline constexpr std::uint64_t initial_health_state = 128;
inline constexpr std::uint64_t rate_limit = 256;
inline constexpr std::uint64_t monitor = 2 | 4 | 128 | 256;  // 390, the suggested monitor mask
}  // namespace notify_mask

// Parsers. Each accepts any bytes: a syntax error or truncation throws tsfleet::Error
// (ErrorCategory::daemon) whose message names `what` (e.g. "GET /localapi/v0/status") and the byte
// offset; wrong-typed keys are skipped and appended to `warnings` when given. A top-level value
// that is not an object gives a default value and one warning. They never read past `json`.
Status parse_status(std::string_view json, std::string_view what = "status JSON",
                    ParseWarnings* warnings = nullptr);
// Like parse_status, but each Peer entry is handed to `on_peer(key, peer)` as soon as it is
// parsed and not kept (the returned Status has an empty `peer` map), so memory stays flat for
// tens of thousands of peers. Throws as parse_status does (peers already delivered stay delivered);
// exceptions from `on_peer` propagate.
using PeerCallback = std::function<void(const std::string& key, PeerStatus&& peer)>;
Status parse_status_streaming(std::string_view json, const PeerCallback& on_peer,
                              std::string_view what = "status JSON",
                              ParseWarnings* warnings = nullptr);
Prefs parse_prefs(std::string_view json, std::string_view what = "prefs JSON",
                  ParseWarnings* warnings = nullptr);
PingResult parse_ping_result(std::string_view json, std::string_view what = "ping JSON",
                             ParseWarnings* warnings = nullptr);
WhoIs parse_whois(std::string_view json, std::string_view what = "whois JSON",
                  ParseWarnings* warnings = nullptr);
DerpMap parse_derp_map(std::string_view json, std::string_view what = "derpmap JSON",
                       ParseWarnings* warnings = nullptr);
Notify parse_notify(std::string_view json, std::string_view what = "notify JSON",
                    ParseWarnings* warnings = nullptr);

// `{"Warning":"…"}` (check-ip-forwarding) -> the warning, "" meaning OK.
std::string parse_warning_object(std::string_view json, std::string_view what,
                                 ParseWarnings* warnings = nullptr);

// The error string of a LocalAPI JSON error body, `{"error":"…"}` or `{"Error":"…"}`; nullopt if
// `body` is not such an object (then callers use the trimmed text). Never throws.
std::optional<std::string> json_error_message(std::string_view body) noexcept;

}  // namespace tsfleet::localapi
