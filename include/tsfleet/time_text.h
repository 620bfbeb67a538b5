#pragma once
// Time as text, one place for every verb: RFC 3339 times as tailscaled writes them (Go's time.Time
// in JSON), and the durations options take (--timeout, --interval, ...).
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

// A duration as the command line writes it: one or more <number><unit> with units ms, s, m, h, d
// (24 h) and w (7 d), a number with an optional fraction ("1.5s", "1h30m", "500ms", "14d"); a bare
// number is seconds ("45"). nullopt for anything else: empty, negative, spaces, a unit missing or
// unknown, more than 100 years. Callers set their own limits. Never throws; accepts any bytes.
std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) noexcept;

}  // namespace tsfleet
