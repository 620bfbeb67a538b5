#pragma once
// The fleet as the daemon sees it: tailscaled's Status joined with the inventory's HostPlans.
// Each inventory host is found among Self and the peers (by DNSName first label, then HostName;
// the name used is HostPlan.prefs.hostname when set, else the inventory name) and reported as
// self, present or missing; peers not in the inventory are reported as unexpected. For each row:
// online, path (direct / DERP / peer relay), last handshake, exit node offered or in use, routes
// (approved vs primary), tags, key expiry with a warning window, and the plan's expectations
// that the daemon contradicts (warnings only).
//
// The summary is built peer by peer (FleetStatusBuilder), so `summarize_status_json` keeps memory
// flat apart from the input and the rows: it never holds the parsed Peer map.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsfleet/localapi/types.h"
#include "tsfleet/plan.h"

namespace tsfleet::status {

inline constexpr int kStatusSchemaVersion = 1;

struct StatusOptions {
  int expiry_warning_days = 14;  // a key expiring within this many days is a warning
  // "now" in Unix seconds (tests pin it); nullopt: the system clock.
  std::optional<std::int64_t> now;
};

enum class Presence { self, present, missing, unexpected };
std::string_view to_string(Presence p) noexcept;  // "self" | "present" | "missing" | "unexpected"

enum class PathKind { none, local, direct, derp, peer_relay };
std::string_view to_string(PathKind k) noexcept;  // "none" | "local" | "direct" | "derp" | "peer-relay"

enum class KeyState { none, ok, expiring, expired };
std::string_view to_string(KeyState k) noexcept;  // "none" | "ok" | "expiring" | "expired"

struct HostRow {
  std::string name;  // inventory name, or for unexpected peers the DNS first label / HostName
  Presence presence = Presence::missing;
  bool expected = false;  // in the inventory
  std::string match_name;  // the name looked for (prefs.hostname or inventory name); "" if unexpected
  std::string host_name, dns_name, os, id;
  std::vector<std::string> tailscale_ips;
  bool online = false;
  bool active = false;
  PathKind path = PathKind::none;
  std::string via;             // the direct ip:port, the DERP region code, or the peer relay
  std::string home_derp;       // Relay: the home DERP region code
  std::string last_handshake;  // RFC 3339, "" when never
  std::string last_seen;       // RFC 3339, "" when unknown (only meaningful when offline)
  bool exit_node_offered = false;
  bool exit_node_in_use = false;
  std::vector<std::string> routes;          // approved subnet routes (AllowedIPs minus own addresses and exit routes)
  std::vector<std::string> primary_routes;  // PrimaryRoutes
  std::vector<std::string> expected_routes; // from the plan
  std::vector<std::string> tags;
  std::string key_expiry;  // RFC 3339, "" when the key does not expire
  KeyState key = KeyState::none;
  std::optional<std::int64_t> key_days_left;
  std::vector<std::string> problems;  // make the verb fail: missing, offline, key expired (expected hosts only)
  std::vector<std::string> warnings;  // expectations contradicted, key expiring soon, duplicates
};

struct FleetStatus {
  std::string backend_state;  // as sent
  localapi::BackendState state = localapi::BackendState::unknown;
  std::string version;
  std::string tailnet;  // CurrentTailnet.Name
  std::string magic_dns_suffix;
  std::string auth_url;
  std::vector<std::string> health;
  std::string exit_node_in_use;  // the row name of the peer in use as exit node, "" if none
  std::vector<HostRow> rows;     // self first, then the inventory hosts in order, then unexpected peers by name
  std::size_t peer_count = 0;
  std::int64_t now = 0;

  // Rows with problems, plus the backend state when it is not Running.
  bool ok() const;
  // One line per problem, e.g. "p620: offline (last seen 2026-11-28T09:15:00Z)".
  std::vector<std::string> problem_lines() const;
};

// Joins peers with the plans as they come.
class FleetStatusBuilder {
 public:
  FleetStatusBuilder(const std::vector<HostPlan>& plans, StatusOptions options = {});
  // Self (call once, before or after the peers).
  void set_self(const localapi::PeerStatus& self);
  void add_peer(const localapi::PeerStatus& peer);
  // `status` supplies everything but the peers (BackendState, health, tailnet...).
  FleetStatus finish(const localapi::Status& status);

 private:
  struct Candidate {
    HostRow row;
    int quality = 0;  // 2: DNS label match, 1: HostName match
  };
  HostRow make_row(const localapi::PeerStatus& p, bool is_self) const;
  void place(HostRow&& row, bool is_self, const std::string& dns_label, const std::string& host_name);

  const std::vector<HostPlan>& plans_;
  StatusOptions options_;
  std::int64_t now_;
  std::unordered_map<std::string, std::size_t> by_name_;  // match name -> plan index
  std::vector<std::optional<Candidate>> matched_;         // per plan
  std::vector<HostRow> unexpected_;
  std::optional<HostRow> self_;
  bool self_expected_ = false;
  std::size_t peers_ = 0;
};

// Parses tailscaled's status JSON with the streaming parser and summarises it. Throws as
// localapi::parse_status does (ErrorCategory::daemon, naming `what`).
FleetStatus summarize_status_json(std::string_view json, const std::vector<HostPlan>& plans,
                                  const StatusOptions& options = {},
                                  std::string_view what = "status JSON",
                                  localapi::ParseWarnings* warnings = nullptr);
// The same from an already parsed Status (its Peer map).
FleetStatus summarize_status(const localapi::Status& status, const std::vector<HostPlan>& plans,
                             const StatusOptions& options = {});

// What to tell the user when BackendState is not Running ("NeedsLogin: run `tsfleet up`"); ""
// when Running.
std::string backend_state_advice(const FleetStatus& s);

// A table, one row per host, then health messages and the advice.
std::string render_status_text(const FleetStatus& s, bool colour);
// {"schema_version": 1, "backend_state", ..., "hosts": [...], "summary": {...}, "ok"}.
nlohmann::json render_status_json(const FleetStatus& s, std::string_view fleet_source);
// The same document as text (what `status --json` prints), built host by host so memory stays
// proportional to the output, not to a JSON tree of every host.
std::string render_status_json_text(const FleetStatus& s, std::string_view fleet_source);

// RFC 3339 ("2026-12-01T11:58:30.123456789Z", "...+02:00") to Unix seconds; nullopt when it is not
// one, and for Go's zero time (year 1). Never throws.
std::optional<std::int64_t> parse_rfc3339(std::string_view text) noexcept;

}  // namespace tsfleet::status
