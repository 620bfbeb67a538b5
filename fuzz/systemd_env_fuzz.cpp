// libFuzzer target: doctor must parse unit Environment= lines, /proc/<pid>/environ and cmdline from
// any bytes without crashing (tsfleet/doctor/parsers.h).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>

#include "tsfleet/doctor/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::map<std::string, std::string> env;
  tsfleet::doctor::apply_unit_environment(text, env);
  for (const auto& [k, v] : env)
    if (k.empty() || k.find('=') != std::string::npos) std::abort();
  auto e = tsfleet::doctor::parse_environ(text);
  auto argv = tsfleet::doctor::parse_cmdline(text);
  (void)tsfleet::doctor::flag_value(argv, "port");
  (void)e;
  return 0;
}
