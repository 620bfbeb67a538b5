// libFuzzer target: the Prometheus text parser (tailscaled's usermetrics) accepts any bytes, and
// what monitor writes back from it is valid exposition text that parses without errors to the
// same output again (writing is idempotent after one round).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "tsfleet/monitor/prometheus.h"

using namespace tsfleet::monitor::prom;

namespace {

std::string rewrite(std::string_view text, ParseResult* out = nullptr) {
  ParseResult r = parse_text(text);
  Writer w;
  write_families(w, r.families, "", "fuzz");
  if (out) *out = std::move(r);
  return w.take();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  ParseResult first;
  std::string once = rewrite(text, &first);
  if (first.errors.size() > ParseLimits{}.max_errors) std::abort();
  ParseResult again;
  std::string twice = rewrite(once, &again);
  if (!again.errors.empty()) std::abort();  // what we write always parses
  if (twice != once) {
    std::fprintf(stderr, "not idempotent:\n--- once\n%s\n--- twice\n%s\n", once.c_str(),
                 twice.c_str());
    std::abort();
  }
  return 0;
}
