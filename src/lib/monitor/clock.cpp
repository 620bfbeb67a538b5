#include "tsfleet/monitor/clock.h"

#include <fmt/format.h>

#include <cstdint>
#include <ctime>
#include <limits>

namespace tsfleet::monitor {

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
