// libFuzzer target: the STUN Binding response parser accepts any bytes, never reads past them,
// and what it accepts has a consistent shape (a mapped address on every success, with a port
// and an address text of its family).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tsfleet/probe/stun.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  std::string why;
  auto r = tsfleet::probe::stun::parse_response(bytes, &why);
  if (!r && why.empty()) std::abort();
  if (r) {
    if (size < 20 || size % 4 != 0) std::abort();
    if (r->success && !r->mapped) std::abort();
    if (r->mapped) {
      bool colon = r->mapped->ip.find(':') != std::string::npos;
      if (colon != r->mapped->ipv6 || r->mapped->ip.empty()) std::abort();
    }
  }
  (void)tsfleet::probe::stun::fingerprint(bytes);
  return 0;
}
