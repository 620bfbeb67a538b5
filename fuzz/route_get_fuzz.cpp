// libFuzzer target: the `ip route get` output parser accepts any text; a route it accepts as
// unicast always names its interface.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tsfleet/probe/route.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = tsfleet::probe::parse_ip_route_get(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (r.ok && r.type == "unicast" && r.dev.empty()) std::abort();
  if (!r.ok && r.error.empty()) std::abort();
  return 0;
}
