// libFuzzer target: the DNS message parser (answers to the MagicDNS probe) accepts any bytes,
// survives compression loops, and every question name it returns builds a query that parses back
// to the same name.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tsfleet/error.h"
#include "tsfleet/probe/dns.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = tsfleet::probe::parse_dns_message(std::span<const std::uint8_t>(data, size));
  if (!m) return 0;
  for (const auto& q : m->questions) {
    try {
      if (!q.empty() && q.back() == '.') continue;  // the builder drops a trailing dot by design
      auto query = tsfleet::probe::build_dns_query(1, q);
      auto back = tsfleet::probe::parse_dns_message(query);
      if (!back || back->questions.size() != 1 || back->questions[0] != q) std::abort();
    } catch (const tsfleet::Error&) {
      // empty, over-long or dotted labels: refused with a usage error
    }
  }
  return 0;
}
