// libFuzzer target: the netcheck report parser accepts any bytes (input errors only), and the
// explanation and result built from any report never crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "tsfleet/error.h"
#include "tsfleet/probe/netcheck.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto r = tsfleet::probe::parse_netcheck_report(
        std::string_view(reinterpret_cast<const char*>(data), size));
    (void)tsfleet::probe::explain_relay(r);
    (void)tsfleet::probe::netcheck_result(r, {"peer"});
  } catch (const tsfleet::Error&) {
  }
  return 0;
}
