// libFuzzer target: the ICMP reply parsers (ICMPv4: raw-socket packets with an IPv4 header,
// datagram-socket messages without; ICMPv6 messages) accept any bytes and never report more
// payload than they were given.
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
  auto p6 = tsfleet::probe::parse_icmp6_packet(bytes);
  if (p6 && p6->payload_size + 8 > size) std::abort();
  (void)tsfleet::probe::internet_checksum(bytes);
  return 0;
}
