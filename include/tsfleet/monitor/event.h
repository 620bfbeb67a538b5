#pragma once
// A state change monitor reports: one text line or one JSON line on stdout, and the JSON on an
// alert hook's stdin.
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "tsfleet/monitor/clock.h"

namespace tsfleet::monitor {

inline constexpr int kEventSchemaVersion = 1;

// Event kinds (the `kind` field).
namespace event_kind {
inline constexpr std::string_view started = "monitor_started";
inline constexpr std::string_view stopped = "monitor_stopped";
inline constexpr std::string_view daemon_unreachable = "daemon_unreachable";
inline constexpr std::string_view daemon_back = "daemon_back";
inline constexpr std::string_view backend_state = "backend_state";
inline constexpr std::string_view peer_online = "peer_online";
inline constexpr std::string_view peer_offline = "peer_offline";
inline constexpr std::string_view peer_added = "peer_added";
inline constexpr std::string_view peer_removed = "peer_removed";
inline constexpr std::string_view peer_path = "peer_path";
inline constexpr std::string_view key_expiry = "key_expiry";
inline constexpr std::string_view health_warning = "health_warning";
inline constexpr std::string_view health_cleared = "health_cleared";
inline constexpr std::string_view expectation = "expectation";
inline constexpr std::string_view restart = "restart";
inline constexpr std::string_view restart_gave_up = "restart_gave_up";
}  // namespace event_kind

enum class EventSeverity { info, warning, error };
std::string_view to_string(EventSeverity s) noexcept;  // "info" | "warning" | "error"

struct Event {
  std::string kind;
  TimePoint time{};
  EventSeverity severity = EventSeverity::info;
  std::string host;       // this node (Self's short name; "" while the daemon was never seen)
  std::string peer;       // the peer / inventory host the event is about, or ""
  std::string old_value;  // "" when there was no old value (e.g. at start)
  std::string new_value;
  std::string message;  // one human sentence
};

// {"schema_version":1,"time":"…Z","kind":…,"severity":…,"host":…,"peer":…,"old":…,"new":…,
//  "message":…}; `peer` is omitted when empty. Strings are redacted.
nlohmann::json to_json(const Event& e);
std::string to_json_line(const Event& e);  // dump() + '\n'
// "2026-12-01T12:00:00.000Z warning peer_path web1: direct -> derp (…message…)\n"
std::string to_text_line(const Event& e);

}  // namespace tsfleet::monitor
