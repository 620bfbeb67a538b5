#include "tsfleet/monitor/clock.h"

#include <fmt/format.h>

#include <cstdint>
#include <ctime>
#include <limits>

namespace tsfleet::monitor {

namespace {

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) noexcept {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(std::int64_t y) noexcept { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) noexcept {
  static constexpr unsigned k[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : k[m - 1];
}

// Reads exactly `n` digits at s[i..]; advances i.
bool digits(std::string_view s, std::size_t& i, std::size_t n, int& out) noexcept {
  if (i + n > s.size()) return false;
  int v = 0;
  for (std::size_t k = 0; k < n; ++k) {
    char c = s[i + k];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  i += n;
  return true;
}

bool expect(std::string_view s, std::size_t& i, char c) noexcept {
  if (i >= s.size() || (s[i] != c && !(c == 'T' && s[i] == 't'))) return false;
  ++i;
  return true;
}

}  // namespace

std::string format_rfc3339(TimePoint t) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
  int frac = static_cast<int>(ms - secs * 1000);
  std::int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  std::int64_t rem = secs - days * 86400;
  // civil_from_days
  std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", y, m, d, rem / 3600,
                     (rem / 60) % 60, rem % 60, frac);
}

std::optional<TimePoint> parse_rfc3339(std::string_view s) noexcept {
  std::size_t i = 0;
  int year, mon, day, hh, mm, ss;
  if (!digits(s, i, 4, year) || !expect(s, i, '-') || !digits(s, i, 2, mon) || !expect(s, i, '-') ||
      !digits(s, i, 2, day) || !expect(s, i, 'T') || !digits(s, i, 2, hh) || !expect(s, i, ':') ||
      !digits(s, i, 2, mm) || !expect(s, i, ':') || !digits(s, i, 2, ss))
    return std::nullopt;
  // system_clock counts nanoseconds in 64 bits: it ends in 2262.
  if (year < 1970 || year > 2200 || mon < 1 || mon > 12 || day < 1 ||
      static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(mon)) || hh > 23 ||
      mm > 59 || ss > 60)
    return std::nullopt;
  std::int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    std::size_t n = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (n < 9) nanos = nanos * 10 + (s[i] - '0');
      ++n;
      ++i;
    }
    if (n == 0) return std::nullopt;
    for (std::size_t k = n; k < 9; ++k) nanos *= 10;
  }
  std::int64_t offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int sign = s[i] == '-' ? -1 : 1;
    ++i;
    int oh, om;
    if (!digits(s, i, 2, oh) || !expect(s, i, ':') || !digits(s, i, 2, om) || oh > 23 || om > 59)
      return std::nullopt;
    offset = sign * (oh * 3600 + om * 60);
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  std::int64_t secs =
      days_from_civil(year, static_cast<unsigned>(mon), static_cast<unsigned>(day)) * 86400 +
      hh * 3600 + mm * 60 + ss - offset;
  using namespace std::chrono;
  return TimePoint(duration_cast<system_clock::duration>(seconds(secs) + nanoseconds(nanos)));
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view s) noexcept {
  using namespace std::chrono;
  if (s.empty() || s.size() > 64) return std::nullopt;
  // A bare number: seconds.
  bool bare = s.find_first_not_of("0123456789") == std::string_view::npos;
  if (bare) {
    std::int64_t v = 0;
    for (char c : s) {
      if (v > std::numeric_limits<std::int64_t>::max() / 10000) return std::nullopt;
      v = v * 10 + (c - '0');
    }
    return milliseconds(v * 1000);
  }
  std::int64_t total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    std::int64_t v = 0;
    std::size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      if (v > 1'000'000'000'000) return std::nullopt;
      v = v * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start) return std::nullopt;
    std::int64_t unit = 0;
    if (s.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < s.size()) {
      switch (s[i]) {
        case 's':
          unit = 1000;
          break;
        case 'm':
          unit = 60'000;
          break;
        case 'h':
          unit = 3'600'000;
          break;
        case 'd':
          unit = 86'400'000;
          break;
        case 'w':
          unit = 7 * 86'400'000LL;
          break;
        default:
          return std::nullopt;
      }
      ++i;
    } else {
      return std::nullopt;
    }
    if (v > (std::numeric_limits<std::int64_t>::max() - total) / unit) return std::nullopt;
    total += v * unit;
  }
  return milliseconds(total);
}

std::string format_duration(std::chrono::milliseconds d) {
  std::int64_t ms = d.count();
  std::string sign;
  if (ms < 0) {
    sign = "-";
    ms = -ms;
  }
  if (ms < 1000) return sign + std::to_string(ms) + "ms";
  std::int64_t s = ms / 1000;
  std::string out;
  std::int64_t days = s / 86400, h = (s / 3600) % 24, m = (s / 60) % 60, sec = s % 60;
  if (days) out += std::to_string(days) + "d";
  if (h) out += std::to_string(h) + "h";
  if (m && days == 0) out += std::to_string(m) + "m";
  if (sec && days == 0 && h == 0) out += std::to_string(sec) + "s";
  if (out.empty()) out = "0s";
  return sign + out;
}

}  // namespace tsfleet::monitor
