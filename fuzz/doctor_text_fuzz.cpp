// libFuzzer target: doctor must parse sysctl values, host names, `tailscale version` output and RFC
// 3339 times from any bytes without crashing (tsfleet/doctor/parsers.h).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "tsfleet/doctor/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)tsfleet::doctor::parse_sysctl_int(text);
  (void)tsfleet::doctor::parse_hostname(text);
  (void)tsfleet::doctor::parse_cli_version(text);
  (void)tsfleet::doctor::short_version(text);
  (void)tsfleet::doctor::parse_rfc3339(text);
  return 0;
}
