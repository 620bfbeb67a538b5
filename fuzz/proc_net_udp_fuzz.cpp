// libFuzzer target: doctor must parse /proc/net/udp and /proc/net/udp6 lines from any bytes without
// crashing (tsfleet/doctor/parsers.h).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "tsfleet/doctor/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto a = tsfleet::doctor::parse_proc_net_udp(text, false);
  auto b = tsfleet::doctor::parse_proc_net_udp(text, true);
  for (const auto& s : a)
    if (s.ipv6) std::abort();
  for (const auto& s : b)
    if (!s.ipv6) std::abort();
  return 0;
}
