#include "tsfleet/localapi/types.h"

#include <nlohmann/json.hpp>

#include "json_decode.h"

namespace tsfleet::localapi {

using detail::Field;
using detail::Kind;
using detail::Schema;

// Field-table helpers: a captureless lambda returning the member's address.
#define TS_MEMBER(T, m) [](void* o) -> void* { return &static_cast<T*>(o)->m; }
#define TS_SELF [](void* o) -> void* { return o; }
#define TS_F(key, kind, T, m) \
  Field { key, Kind::kind, TS_MEMBER(T, m) }
#define TS_NESTED(key, kind, T, m, schema, emplace) \
  Field { key, Kind::kind, TS_MEMBER(T, m), &schema, emplace }

namespace {

using PeerMap = std::map<std::string, PeerStatus>;
using UserMap = std::map<std::string, UserProfile>;
using RegionMap = std::map<std::string, DerpRegion>;

template <class Opt>
void* engage_optional(void* p, std::string&&) {
  auto* o = static_cast<Opt*>(p);
  if (!o->has_value()) o->emplace();
  return &**o;
}
template <class Map>
void* map_emplace(void* p, std::string&& key) {
  return &(*static_cast<Map*>(p))[std::move(key)];
}
template <class Vec>
void* vec_append(void* p, std::string&&) {
  return &static_cast<Vec*>(p)->emplace_back();
}

const Schema& peer_status_schema() {
  using T = PeerStatus;
  static const Schema s{"",
                        {
                            TS_F("ID", string, T, id),
                            TS_F("NodeID", int64, T, node_id),
                            TS_F("PublicKey", string, T, public_key),
                            TS_F("HostName", string, T, host_name),
                            TS_F("DNSName", string, T, dns_name),
                            TS_F("OS", string, T, os),
                            TS_F("UserID", int64, T, user_id),
                            TS_F("TailscaleIPs", string_list, T, tailscale_ips),
                            TS_F("AllowedIPs", string_list, T, allowed_ips),
                            TS_F("Tags", string_list, T, tags),
                            TS_F("PrimaryRoutes", string_list, T, primary_routes),
                            TS_F("Addrs", string_list, T, addrs),
                            TS_F("CurAddr", string, T, cur_addr),
                            TS_F("Relay", string, T, relay),
                            TS_F("PeerRelay", string, T, peer_relay),
                            TS_F("RxBytes", int64, T, rx_bytes),
                            TS_F("TxBytes", int64, T, tx_bytes),
                            TS_F("Created", string, T, created),
                            TS_F("LastWrite", string, T, last_write),
                            TS_F("LastSeen", string, T, last_seen),
                            TS_F("LastHandshake", string, T, last_handshake),
                            TS_F("KeyExpiry", string, T, key_expiry),
                            TS_F("Online", boolean, T, online),
                            TS_F("ExitNode", boolean, T, exit_node),
                            TS_F("ExitNodeOption", boolean, T, exit_node_option),
                            TS_F("Active", boolean, T, active),
                            TS_F("ShareeNode", boolean, T, share_node),
                            TS_F("InNetworkMap", boolean, T, in_network_map),
                            TS_F("InMagicSock", boolean, T, in_magic_sock),
                            TS_F("InEngine", boolean, T, in_engine),
                            TS_F("Expired", boolean, T, expired),
                            TS_F("PeerAPIURL", string_list, T, peer_api_url),
                        }};
  return s;
}

const Schema& tailnet_schema() {
  using T = TailnetStatus;
  static const Schema s{
      "",
      {TS_F("Name", string, T, name), TS_F("MagicDNSSuffix", string, T, magic_dns_suffix),
       TS_F("MagicDNSEnabled", boolean, T, magic_dns_enabled)}};
  return s;
}

const Schema& exit_node_status_schema() {
  using T = ExitNodeStatus;
  static const Schema s{"",
                        {TS_F("ID", string, T, id), TS_F("Online", boolean, T, online),
                         TS_F("TailscaleIPs", string_list, T, tailscale_ips)}};
  return s;
}

const Schema& user_profile_schema() {
  using T = UserProfile;
  static const Schema s{"",
                        {TS_F("ID", int64, T, id), TS_F("LoginName", string, T, login_name),
                         TS_F("DisplayName", string, T, display_name),
                         TS_F("ProfilePicURL", string, T, profile_pic_url)}};
  return s;
}

const Schema& client_version_schema() {
  using T = ClientVersion;
  static const Schema s{
      "",
      {TS_F("RunningLatest", boolean, T, running_latest),
       TS_F("LatestVersion", string, T, latest_version),
       TS_F("UrgentSecurityUpdate", boolean, T, urgent_security_update),
       TS_F("Notify", boolean, T, notify), TS_F("NotifyURL", string, T, notify_url),
       TS_F("NotifyText", string, T, notify_text)}};
  return s;
}

void* engage_self(void* p, std::string&&) {
  auto* s = static_cast<Status*>(p);
  s->has_self = true;
  return &s->self;
}

const Schema& status_schema() {
  using T = Status;
  static const Schema s{
      "",
      {
          TS_F("Version", string, T, version),
          TS_F("TUN", boolean, T, tun),
          TS_F("BackendState", string, T, backend_state_text),
          TS_F("HaveNodeKey", boolean, T, have_node_key),
          TS_F("AuthURL", string, T, auth_url),
          TS_F("TailscaleIPs", string_list, T, tailscale_ips),
          Field{"Self", Kind::object, TS_SELF, &peer_status_schema(), engage_self},
          TS_NESTED("ExitNodeStatus", object, T, exit_node_status, exit_node_status_schema(),
                    engage_optional<std::optional<ExitNodeStatus>>),
          TS_F("Health", string_list, T, health),
          TS_F("MagicDNSSuffix", string, T, magic_dns_suffix),
          TS_NESTED("CurrentTailnet", object, T, current_tailnet, tailnet_schema(),
                    engage_optional<std::optional<TailnetStatus>>),
          TS_F("CertDomains", string_list, T, cert_domains),
          TS_NESTED("Peer", object_map, T, peer, peer_status_schema(), map_emplace<PeerMap>),
          TS_NESTED("User", object_map, T, user, user_profile_schema(), map_emplace<UserMap>),
          TS_NESTED("ClientVersion", object, T, client_version, client_version_schema(),
                    engage_optional<std::optional<ClientVersion>>),
      }};
  return s;
}

// Streaming status: Peer elements are decoded into one scratch PeerStatus and handed to the
// callback as each ends, so memory does not grow with the number of peers.
struct PeerStream {
  PeerStatus scratch;
  const PeerCallback* callback;
};
thread_local PeerStream* tls_peer_stream = nullptr;

void* stream_peer_begin(void*, std::string&&) {
  tls_peer_stream->scratch = PeerStatus{};
  return &tls_peer_stream->scratch;
}
void stream_peer_end(void*, void*, const std::string& key) {
  (*tls_peer_stream->callback)(key, std::move(tls_peer_stream->scratch));
}

const Schema& streaming_status_schema() {
  static const Schema s = [] {
    Schema copy = status_schema();
    for (auto& f : copy.fields) {
      if (f.key == "Peer") {
        f.emplace = stream_peer_begin;
        f.finish = stream_peer_end;
      }
    }
    return copy;
  }();
  return s;
}

const Schema& auto_update_schema() {
  using T = AutoUpdatePrefs;
  static const Schema s{
      "", {TS_F("Check", opt_boolean, T, check), TS_F("Apply", opt_boolean, T, apply)}};
  return s;
}

const Schema& app_connector_schema() {
  using T = Prefs;
  static const Schema s{"", {TS_F("Advertise", boolean, T, app_connector_advertise)}};
  return s;
}

const Schema& prefs_schema() {
  using T = Prefs;
  static const Schema s{
      "",
      {
          TS_F("ControlURL", string, T, control_url),
          TS_F("RouteAll", boolean, T, route_all),
          TS_F("ExitNodeID", string, T, exit_node_id),
          TS_F("ExitNodeIP", string, T, exit_node_ip),
          TS_F("AutoExitNode", string, T, auto_exit_node),
          TS_F("ExitNodeAllowLANAccess", boolean, T, exit_node_allow_lan_access),
          TS_F("CorpDNS", boolean, T, corp_dns),
          TS_F("RunSSH", boolean, T, run_ssh),
          TS_F("RunWebClient", boolean, T, run_web_client),
          TS_F("WantRunning", boolean, T, want_running),
          TS_F("LoggedOut", boolean, T, logged_out),
          TS_F("ShieldsUp", boolean, T, shields_up),
          TS_F("AdvertiseTags", string_list, T, advertise_tags),
          TS_F("Hostname", string, T, hostname),
          TS_F("NotepadURLs", boolean, T, notepad_urls),
          TS_F("ForceDaemon", boolean, T, force_daemon),
          TS_F("Egg", boolean, T, egg),
          TS_F("AdvertiseRoutes", string_list, T, advertise_routes),
          TS_F("AdvertiseServices", string_list, T, advertise_services),
          TS_F("NoSNAT", boolean, T, no_snat),
          TS_F("NoStatefulFiltering", opt_boolean, T, no_stateful_filtering),
          TS_F("NetfilterMode", int64, T, netfilter_mode_raw),
          TS_F("OperatorUser", string, T, operator_user),
          TS_F("ProfileName", string, T, profile_name),
          TS_NESTED("AutoUpdate", object, T, auto_update, auto_update_schema(), nullptr),
          Field{"AppConnector", Kind::object, TS_SELF, &app_connector_schema()},
          TS_F("PostureChecking", boolean, T, posture_checking),
          TS_F("NetfilterKind", string, T, netfilter_kind),
          TS_F("RelayServerPort", opt_int64, T, relay_server_port),
      }};
  return s;
}

const Schema& ping_schema() {
  using T = PingResult;
  static const Schema s{"",
                        {
                            TS_F("IP", string, T, ip),
                            TS_F("NodeIP", string, T, node_ip),
                            TS_F("NodeName", string, T, node_name),
                            TS_F("Err", string, T, err),
                            TS_F("LatencySeconds", float64, T, latency_seconds),
                            TS_F("Endpoint", string, T, endpoint),
                            TS_F("PeerRelay", string, T, peer_relay),
                            TS_F("DERPRegionID", int64, T, derp_region_id),
                            TS_F("DERPRegionCode", string, T, derp_region_code),
                            TS_F("PeerAPIPort", int64, T, peer_api_port),
                            TS_F("PeerAPIURL", string, T, peer_api_url),
                            TS_F("IsLocalIP", boolean, T, is_local_ip),
                        }};
  return s;
}

const Schema& hostinfo_schema() {
  using T = WhoIsNode;
  static const Schema s{"", {TS_F("Hostname", string, T, host_name), TS_F("OS", string, T, os)}};
  return s;
}

const Schema& whois_node_schema() {
  using T = WhoIsNode;
  static const Schema s{"",
                        {
                            TS_F("ID", int64, T, id),
                            TS_F("StableID", string, T, stable_id),
                            TS_F("Name", string, T, name),
                            TS_F("User", int64, T, user),
                            TS_F("Key", string, T, key),
                            TS_F("Addresses", string_list, T, addresses),
                            TS_F("AllowedIPs", string_list, T, allowed_ips),
                            TS_F("Tags", string_list, T, tags),
                            TS_F("PrimaryRoutes", string_list, T, primary_routes),
                            TS_F("ComputedName", string, T, computed_name),
                            Field{"Hostinfo", Kind::object, TS_SELF, &hostinfo_schema()},
                        }};
  return s;
}

const Schema& whois_schema() {
  using T = WhoIs;
  static const Schema s{
      "",
      {
          TS_NESTED("Node", object, T, node, whois_node_schema(), nullptr),
          TS_NESTED("UserProfile", object, T, user_profile, user_profile_schema(), nullptr),
          TS_F("CapMap", key_list, T, cap_map_keys),
      }};
  return s;
}

const Schema& derp_node_schema() {
  using T = DerpNode;
  static const Schema s{"",
                        {TS_F("Name", string, T, name), TS_F("RegionID", int64, T, region_id),
                         TS_F("HostName", string, T, host_name), TS_F("IPv4", string, T, ipv4),
                         TS_F("IPv6", string, T, ipv6), TS_F("STUNPort", int64, T, stun_port),
                         TS_F("DERPPort", int64, T, derp_port),
                         TS_F("STUNOnly", boolean, T, stun_only),
                         TS_F("STUNTestIP", string, T, stun_test_ip)}};
  return s;
}

const Schema& derp_region_schema() {
  using T = DerpRegion;
  static const Schema s{
      "",
      {TS_F("RegionID", int64, T, region_id), TS_F("RegionCode", string, T, region_code),
       TS_F("RegionName", string, T, region_name), TS_F("Avoid", boolean, T, avoid),
       TS_NESTED("Nodes", object_list, T, nodes, derp_node_schema(),
                 vec_append<std::vector<DerpNode>>)}};
  return s;
}

const Schema& derp_map_schema() {
  using T = DerpMap;
  static const Schema s{
      "",
      {TS_NESTED("Regions", object_map, T, regions, derp_region_schema(), map_emplace<RegionMap>),
       TS_F("OmitDefaultRegions", boolean, T, omit_default_regions)}};
  return s;
}

const Schema& health_warning_schema() {
  using T = HealthWarning;
  static const Schema s{
      "",
      {TS_F("WarnableCode", string, T, warnable_code), TS_F("Severity", string, T, severity),
       TS_F("Title", string, T, title), TS_F("Text", string, T, text),
       TS_F("BrokenSince", string, T, broken_since),
       TS_F("ImpactsConnectivity", boolean, T, impacts_connectivity)}};
  return s;
}

using HealthMap = std::map<std::string, HealthWarning>;

const Schema& health_state_schema() {
  static const Schema s{"",
                        {Field{"Warnings", Kind::object_map, TS_SELF, &health_warning_schema(),
                               map_emplace<HealthMap>}}};
  return s;
}

const Schema& engine_schema() {
  using T = EngineStatus;
  static const Schema s{
      "",
      {TS_F("RBytes", int64, T, rbytes), TS_F("WBytes", int64, T, wbytes),
       TS_F("NumLive", int64, T, num_live), TS_F("LiveDERPs", int64, T, live_derps)}};
  return s;
}

// LoginFinished is `{}` when set; any object counts.
const Schema& empty_schema() {
  static const Schema s{"", {}};
  return s;
}

void* set_login_finished(void* p, std::string&&) {
  *static_cast<bool*>(p) = true;
  return p;
}

const Schema& notify_schema() {
  using T = Notify;
  static const Schema s{
      "",
      {
          TS_F("Version", opt_string, T, version),
          TS_F("SessionID", opt_string, T, session_id),
          TS_F("ErrMessage", opt_string, T, err_message),
          TS_NESTED("LoginFinished", object, T, login_finished, empty_schema(), set_login_finished),
          TS_F("State", opt_int64, T, state_raw),
          TS_NESTED("Prefs", object, T, prefs, prefs_schema(),
                    engage_optional<std::optional<Prefs>>),
          TS_NESTED("Engine", object, T, engine, engine_schema(),
                    engage_optional<std::optional<EngineStatus>>),
          TS_F("BrowseToURL", opt_string, T, browse_to_url),
          TS_NESTED("Health", object, T, health, health_state_schema(),
                    engage_optional<std::optional<HealthMap>>),
      }};
  return s;
}

struct WarningObject {
  std::string warning;
};

const Schema& warning_object_schema() {
  static const Schema s{"", {TS_F("Warning", string, WarningObject, warning)}};
  return s;
}

void finish_prefs(Prefs& p) { p.netfilter_mode = netfilter_mode_from_int(p.netfilter_mode_raw); }

}  // namespace

BackendState backend_state_from_string(std::string_view s) noexcept {
  if (s == "NoState") return BackendState::no_state;
  if (s == "InUseOtherUser") return BackendState::in_use_other_user;
  if (s == "NeedsLogin") return BackendState::needs_login;
  if (s == "NeedsMachineAuth") return BackendState::needs_machine_auth;
  if (s == "Stopped") return BackendState::stopped;
  if (s == "Starting") return BackendState::starting;
  if (s == "Running") return BackendState::running;
  return BackendState::unknown;
}

BackendState backend_state_from_int(std::int64_t n) noexcept {
  if (n >= 0 && n <= 6) return static_cast<BackendState>(n);
  return BackendState::unknown;
}

std::string_view to_string(BackendState s) noexcept {
  switch (s) {
    case BackendState::no_state:
      return "NoState";
    case BackendState::in_use_other_user:
      return "InUseOtherUser";
    case BackendState::needs_login:
      return "NeedsLogin";
    case BackendState::needs_machine_auth:
      return "NeedsMachineAuth";
    case BackendState::stopped:
      return "Stopped";
    case BackendState::starting:
      return "Starting";
    case BackendState::running:
      return "Running";
    case BackendState::unknown:
      break;
  }
  return "unknown";
}

NetfilterMode netfilter_mode_from_int(std::int64_t n) noexcept {
  if (n >= 0 && n <= 2) return static_cast<NetfilterMode>(n);
  return NetfilterMode::unknown;
}

std::string_view to_string(NetfilterMode m) noexcept {
  switch (m) {
    case NetfilterMode::off:
      return "off";
    case NetfilterMode::nodivert:
      return "nodivert";
    case NetfilterMode::on:
      return "on";
    case NetfilterMode::unknown:
      break;
  }
  return "unknown";
}

Status parse_status(std::string_view json, std::string_view what, ParseWarnings* warnings) {
  Status s;
  detail::decode(json, status_schema(), &s, what, warnings);
  s.backend_state = backend_state_from_string(s.backend_state_text);
  return s;
}

Status parse_status_streaming(std::string_view json, const PeerCallback& on_peer,
                              std::string_view what, ParseWarnings* warnings) {
  Status s;
  PeerStream stream{PeerStatus{}, &on_peer};
  PeerStream* saved = tls_peer_stream;  // the callback may itself parse a status
  tls_peer_stream = &stream;
  try {
    detail::decode(json, streaming_status_schema(), &s, what, warnings);
  } catch (...) {
    tls_peer_stream = saved;
    throw;
  }
  tls_peer_stream = saved;
  s.backend_state = backend_state_from_string(s.backend_state_text);
  return s;
}

Prefs parse_prefs(std::string_view json, std::string_view what, ParseWarnings* warnings) {
  Prefs p;
  detail::decode(json, prefs_schema(), &p, what, warnings);
  finish_prefs(p);
  return p;
}

PingResult parse_ping_result(std::string_view json, std::string_view what,
                             ParseWarnings* warnings) {
  PingResult r;
  detail::decode(json, ping_schema(), &r, what, warnings);
  return r;
}

WhoIs parse_whois(std::string_view json, std::string_view what, ParseWarnings* warnings) {
  WhoIs w;
  detail::decode(json, whois_schema(), &w, what, warnings);
  return w;
}

DerpMap parse_derp_map(std::string_view json, std::string_view what, ParseWarnings* warnings) {
  DerpMap m;
  detail::decode(json, derp_map_schema(), &m, what, warnings);
  return m;
}

Notify parse_notify(std::string_view json, std::string_view what, ParseWarnings* warnings) {
  Notify n;
  detail::decode(json, notify_schema(), &n, what, warnings);
  if (n.state_raw) n.state = backend_state_from_int(*n.state_raw);
  if (n.prefs) finish_prefs(*n.prefs);
  return n;
}

std::string parse_warning_object(std::string_view json, std::string_view what,
                                 ParseWarnings* warnings) {
  WarningObject w;
  detail::decode(json, warning_object_schema(), &w, what, warnings);
  return w.warning;
}

std::optional<std::string> json_error_message(std::string_view body) noexcept {
  try {
    auto first = body.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos || body[first] != '{') return std::nullopt;
    auto j = nlohmann::json::parse(body.begin(), body.end(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) return std::nullopt;
    for (const char* k : {"error", "Error"}) {
      auto it = j.find(k);
      if (it != j.end() && it->is_string() && !it->get_ref<const std::string&>().empty())
        return it->get<std::string>();
    }
  } catch (...) {
  }
  return std::nullopt;
}

bool PrefsPatch::empty() const {
  return !control_url && !route_all && !exit_node_id && !exit_node_ip &&
         !exit_node_allow_lan_access && !corp_dns && !run_ssh && !run_web_client && !want_running &&
         !shields_up && !advertise_tags && !hostname && !advertise_routes && !no_snat &&
         !no_stateful_filtering && !netfilter_mode && !operator_user && !posture_checking;
}

std::string to_masked_prefs_json(const PrefsPatch& p) {
  nlohmann::json j = nlohmann::json::object();
  auto put = [&j](const char* key, const auto& opt) {
    if (opt) {
      j[key] = *opt;
      j[std::string(key) + "Set"] = true;
    }
  };
  put("ControlURL", p.control_url);
  put("RouteAll", p.route_all);
  put("ExitNodeID", p.exit_node_id);
  put("ExitNodeIP", p.exit_node_ip);
  put("ExitNodeAllowLANAccess", p.exit_node_allow_lan_access);
  put("CorpDNS", p.corp_dns);
  put("RunSSH", p.run_ssh);
  put("RunWebClient", p.run_web_client);
  put("WantRunning", p.want_running);
  put("ShieldsUp", p.shields_up);
  put("AdvertiseTags", p.advertise_tags);
  put("Hostname", p.hostname);
  put("AdvertiseRoutes", p.advertise_routes);
  put("NoSNAT", p.no_snat);
  put("NoStatefulFiltering", p.no_stateful_filtering);
  if (p.netfilter_mode && *p.netfilter_mode != NetfilterMode::unknown) {
    j["NetfilterMode"] = static_cast<int>(*p.netfilter_mode);
    j["NetfilterModeSet"] = true;
  }
  put("OperatorUser", p.operator_user);
  put("PostureChecking", p.posture_checking);
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace tsfleet::localapi
