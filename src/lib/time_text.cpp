#include "tsfleet/time_text.h"

#include <algorithm>
#include <cmath>

#include <cstdint>

#include <fmt/format.h>

namespace tsfleet {

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
  constexpr long double kMaxMs = 100.0L * 365 * 86'400'000;
  if (s.empty() || s.size() > 64) return std::nullopt;
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  if (std::all_of(s.begin(), s.end(), is_digit)) {  // a bare number: seconds
    if (s.size() > 12) return std::nullopt;
    std::int64_t v = 0;
    for (char c : s) v = v * 10 + (c - '0');
    return std::chrono::milliseconds(v * 1000);
  }
  long double total = 0;
  std::size_t i = 0;
  while (i < s.size()) {
    // <digits>[.<digits>]
    long double value = 0;
    std::size_t start = i;
    while (i < s.size() && is_digit(s[i])) value = value * 10 + (s[i++] - '0');
    std::size_t int_digits = i - start;
    std::size_t frac_digits = 0;
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      for (; i < s.size() && is_digit(s[i]); ++i, ++frac_digits, scale /= 10)
        value += (s[i] - '0') * scale;
      if (frac_digits == 0) return std::nullopt;  // "1.s"
    }
    if (int_digits == 0 || int_digits > 12 || frac_digits > 9) return std::nullopt;
    long double unit = 0;
    if (s.substr(i, 2) == "ms") {
      unit = 1;
      i += 2;
    } else if (i < s.size()) {
      switch (s[i++]) {
        case 's': unit = 1000; break;
        case 'm': unit = 60'000; break;
        case 'h': unit = 3'600'000; break;
        case 'd': unit = 86'400'000; break;
        case 'w': unit = 7.0L * 86'400'000; break;
        default: return std::nullopt;
      }
    } else {
      return std::nullopt;  // a number without its unit after another part ("1s2")
    }
    total += value * unit;
    if (total > kMaxMs) return std::nullopt;
  }
  return std::chrono::milliseconds(std::llround(total));  // 0.1s is 100 ms, not 99
}

}  // namespace tsfleet
