// libFuzzer target: RFC 3339 times (KeyExpiry from tailscaled) and durations (--interval,
// --expiry-warning) parse any bytes without crashing; a parsed time formats to text that parses
// back to the same millisecond.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tsfleet/monitor/clock.h"

using namespace tsfleet::monitor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto t = parse_rfc3339(text)) {
    auto ms = std::chrono::floor<std::chrono::milliseconds>(*t);
    auto back = parse_rfc3339(format_rfc3339(*t));
    if (!back || std::chrono::floor<std::chrono::milliseconds>(*back) != ms) std::abort();
  }
  if (auto d = parse_duration(text)) {
    if (d->count() < 0) std::abort();
    auto s = format_duration(*d);
    if (s.empty()) std::abort();
  }
  return 0;
}
