// libFuzzer target: doctor must parse iptables-save and nft list ruleset output from any bytes
// without crashing (tsfleet/doctor/parsers.h).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "tsfleet/doctor/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tsfleet::doctor::RulesetHints h;
  tsfleet::doctor::parse_ruleset(text, h);
  for (const auto& [lo, hi] : h.nixos_allowed_udp)
    if (lo > hi || lo < 0 || hi > 65535) std::abort();
  return 0;
}
