// libFuzzer target: the SNTP client's parsers (tsfleet/doctor/sntp.h) take any bytes without
// crashing or undefined behaviour: a server's reply (validated against the originate it carries
// and against another), the offset arithmetic over its timestamps, --time-server text, and the
// timesyncd.conf / chrony.conf readers. Invariants are checked with abort().
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/doctor/sntp.h"

using namespace tsfleet::doctor;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::span<const std::uint8_t> bytes(data, size);
  std::string_view text(reinterpret_cast<const char*>(data), size);

  if (auto p = decode_ntp_packet(bytes)) {
    // The header round-trips through the encoder.
    auto again = encode_ntp_packet(*p);
    for (size_t i = 0; i < ntp_packet_size; ++i)
      if (again[i] != data[i]) std::abort();
    // Against its own originate (so the other checks are reached) and against another one.
    std::string why;
    auto ok = parse_sntp_reply(bytes, p->originate, &why);
    if (ok) {
      if (ok->mode != 4 || ok->stratum < 1 || ok->stratum > 15 || ok->leap == 3 ||
          ok->transmit == 0 || ok->version < 1 || ok->version > 4 || !why.empty())
        std::abort();
      auto t = sntp_timing(ok->originate, ok->receive, ok->transmit, ok->originate + 1);
      (void)t;
    } else if (why.empty()) {
      std::abort();
    }
    if (parse_sntp_reply(bytes, p->originate ^ 1)) std::abort();
    (void)reference_id_text(p->reference_id, p->stratum);
    (void)sntp_timing(p->reference, p->originate, p->receive, p->transmit);
  } else if (parse_sntp_reply(bytes, 0)) {
    std::abort();
  }

  std::string why;
  if (auto s = parse_time_server(text, &why)) {
    if (s->host.empty() || s->port == 0) std::abort();
    auto back = parse_time_server(s->text());  // text() parses back to the same server
    if (!back || back->host != s->host || back->port != s->port) std::abort();
  } else if (why.empty()) {
    std::abort();
  }

  std::vector<std::string> ntp, fallback;
  apply_timesyncd_conf(text, ntp, fallback);
  for (const auto& n : ntp)
    if (n.empty()) std::abort();
  std::vector<std::string> includes;
  for (const auto& s : parse_chrony_conf(text, &includes))
    if (s.host.empty() || s.port == 0) std::abort();
  return 0;
}
