// libFuzzer target: doctor must parse resolv.conf from any bytes without crashing
// (tsfleet/doctor/parsers.h).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "tsfleet/doctor/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rc = tsfleet::doctor::parse_resolv_conf(text);
  for (const auto& ns : rc.nameservers)
    if (ns.empty()) std::abort();
  return 0;
}
