// libFuzzer target: the NixOS module reader, the check rules and the suppression-comment parser
// must take any file without crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "tsfleet/lint/check.h"
#include "tsfleet/lint/module_reader.h"
#include "tsfleet/lint/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  auto reader = [&](const std::filesystem::path& p) -> std::optional<std::string> {
    if (p == "fuzz/configuration.nix") return text;
    if (p == "fuzz/other.nix") return std::string("{ services.tailscale.enable = true; }");
    return std::nullopt;
  };
  auto set = tsfleet::lint::read_module_set("fuzz/configuration.nix", reader);
  tsfleet::lint::HostContext ctx;
  ctx.release = tsfleet::NixosRelease{24, 5, false};
  (void)tsfleet::lint::check_module_set(set, ctx);
  (void)tsfleet::lint::check_file_text("fuzz/configuration.nix", text);
  (void)tsfleet::lint::parse_suppressions(text);
  (void)tsfleet::lint::relative_imports("fuzz/configuration.nix", text);
  return 0;
}
