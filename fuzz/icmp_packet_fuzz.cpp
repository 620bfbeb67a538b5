// libFuzzer target: the ICMP reply parser (raw-socket packets with an IPv4 header, datagram-socket
// messages without) accepts any bytes and never reports more payload than it was given.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tsfleet/probe/icmp.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  for (bool with_ip : {true, false}) {
    auto p = tsfleet::probe::parse_icmp_packet(bytes, with_ip);
    if (p && p->payload_size + 8 > size) std::abort();
  }
  (void)tsfleet::probe::internet_checksum(bytes);
  return 0;
}
