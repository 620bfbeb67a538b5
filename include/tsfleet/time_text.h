#pragma once
// RFC 3339 times as tailscaled writes them (Go's time.Time in JSON): one parser and formatter for
// every verb (status, doctor, monitor).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace tsfleet {

using TimePoint = std::chrono::system_clock::time_point;

// UTC with millisecond precision: "2026-12-01T11:58:30.123Z".
std::string format_rfc3339(TimePoint t);

// Parses RFC 3339 as Go writes it ("2026-12-01T11:58:30.123456789Z", "…+02:00"). Returns nullopt
// for anything else, for Go's zero time "0001-01-01T00:00:00Z" and for years outside 1970-2200
// (system_clock's nanoseconds end in 2262). Never throws; accepts any bytes.
std::optional<TimePoint> parse_rfc3339(std::string_view s) noexcept;

}  // namespace tsfleet
