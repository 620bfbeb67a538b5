// libFuzzer target: every LocalAPI parser (status, streaming status, prefs, notify, ping, whois,
// derpmap, warning and error bodies), the status summary built on the streaming parser, and the
// small readers `status`/`up` add (RFC 3339 times, durations) must accept any bytes without
// crashing; malformed JSON may only throw tsfleet::Error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "tsfleet/error.h"
#include "tsfleet/fleet.h"
#include "tsfleet/localapi/types.h"
#include "tsfleet/plan.h"
#include "tsfleet/status/fleet_status.h"
#include "tsfleet/up/up.h"

namespace {

template <class Fn>
void guarded(Fn fn) {
  try {
    fn();
  } catch (const tsfleet::Error&) {
    // malformed input: an error with a category is the contract
  }
}

const std::vector<tsfleet::HostPlan>& plans() {
  static const tsfleet::Fleet fleet = tsfleet::load_default_fleet();
  static const std::vector<tsfleet::HostPlan> p = tsfleet::plan(fleet);
  return p;
}

void run_all(std::string_view text) {
  using namespace tsfleet;
  localapi::ParseWarnings w;
  guarded([&] { localapi::parse_status(text, "fuzz", &w); });
  guarded([&] {
    status::FleetStatus s = status::summarize_status_json(text, plans(), {14, 1796126400}, "fuzz", &w);
    (void)status::render_status_text(s, false);
    (void)status::render_status_json(s, "fuzz").dump();
  });
  guarded([&] {
    localapi::Prefs p = localapi::parse_prefs(text, "fuzz", &w);
    for (const auto& hp : plans()) {
      (void)up::compare_prefs(hp.prefs, p, nullptr);
      (void)up::up_words(hp.prefs, p);
    }
  });
  guarded([&] { localapi::parse_notify(text, "fuzz", &w); });
  guarded([&] { localapi::parse_ping_result(text, "fuzz", &w); });
  guarded([&] { localapi::parse_whois(text, "fuzz", &w); });
  guarded([&] { localapi::parse_derp_map(text, "fuzz", &w); });
  guarded([&] { localapi::parse_warning_object(text, "fuzz", &w); });
  (void)localapi::json_error_message(text);
  (void)status::parse_rfc3339(text);
  if (w.items.size() > w.limit) std::abort();  // the warning list is bounded
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  run_all(text);
  // The seeds are fake-tailscaled scenarios: their "status" and "prefs" members are the documents
  // the daemon serves, so mutations of a scenario reach the parsers' deep paths too.
  auto doc = nlohmann::json::parse(text, nullptr, false, true);
  if (doc.is_object())
    for (const char* key : {"status", "prefs", "health_warnings", "derpmap"})
      if (auto it = doc.find(key); it != doc.end()) run_all(it->dump());
  return 0;
}
