// libFuzzer target: the fleet loader (positioned JSON reader, validation, plan, module rendering)
// must accept any bytes without crashing, and never echo a tskey- value in an error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "tsfleet/error.h"
#include "tsfleet/fleet.h"
#include "tsfleet/module_emitter.h"
#include "tsfleet/plan.h"
#include "tsfleet/redact.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    tsfleet::Fleet fleet = tsfleet::load_fleet(text, "fuzz.json");
    for (const auto& p : tsfleet::plan(fleet)) {
      std::string module = tsfleet::render_host_module(p, "fuzz.json");
      if (!tsfleet::has_generated_header(module)) std::abort();
    }
  } catch (const tsfleet::Error& e) {
    std::string_view msg = e.what();
    // Nothing that looks like a key survives in an error message (redact() has nothing to mask).
    if (tsfleet::redact(msg) != msg) std::abort();
  }
  return 0;
}
