#include "tsfleet/monitor/clock.h"

#include <fmt/format.h>

#include <cstdint>
#include <ctime>
#include <limits>

namespace tsfleet::monitor {

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
