#include "tsfleet/monitor/event.h"

#include <fmt/format.h>

#include "tsfleet/redact.h"

namespace tsfleet::monitor {

std::string_view to_string(EventSeverity s) noexcept {
  switch (s) {
    case EventSeverity::warning:
      return "warning";
    case EventSeverity::error:
      return "error";
    case EventSeverity::info:
      break;
  }
  return "info";
}

nlohmann::json to_json(const Event& e) {
  nlohmann::json j = {
      {"schema_version", kEventSchemaVersion}, {"time", format_rfc3339(e.time)}, {"kind", e.kind},
      {"severity", to_string(e.severity)},     {"host", redact(e.host)},
  };
  if (!e.peer.empty()) j["peer"] = redact(e.peer);
  j["old"] = redact(e.old_value);
  j["new"] = redact(e.new_value);
  j["message"] = redact(e.message);
  return j;
}

std::string to_json_line(const Event& e) {
  // Replace invalid UTF-8 instead of throwing: names come from the daemon.
  return to_json(e).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string to_text_line(const Event& e) {
  std::string subject = e.peer.empty() ? e.host : e.peer;
  std::string change;
  if (!e.old_value.empty())
    change = fmt::format(" {} -> {}", e.old_value, e.new_value.empty() ? "-" : e.new_value);
  else if (!e.new_value.empty())
    change = " " + e.new_value;
  std::string line =
      fmt::format("{} {} {}{}{}: {}\n", format_rfc3339(e.time), to_string(e.severity), e.kind,
                  subject.empty() ? "" : " " + subject, change, e.message);
  // One event, one line: no control characters from daemon-provided text.
  for (std::size_t i = 0; i + 1 < line.size(); ++i)
    if (static_cast<unsigned char>(line[i]) < 0x20) line[i] = ' ';
  return redact(line);
}

}  // namespace tsfleet::monitor
