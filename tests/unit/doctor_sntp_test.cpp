// The SNTP client (tsfleet/doctor/sntp.h): packet layout, reply validation and offset
// arithmetic on known vectors; time-server and configuration parsing; query_sntp() against the
// test SNTP responder (tests/support/sntp_responder.h) on 127.0.0.1.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <vector>

#include "support/helpers.h"
#include "support/sntp_responder.h"
#include "tsfleet/doctor/sntp.h"

using namespace tsfleet::doctor;
using namespace std::chrono_literals;
using tsfleet::testing::SntpResponder;

namespace {

// A valid server reply to a request whose transmit timestamp was `sent`, as bytes.
std::vector<std::uint8_t> reply_bytes(NtpTimestamp sent) {
  std::vector<std::uint8_t> b = {
      0x24, 0x02, 0x06, 0xec,  // LI 0, VN 4, mode 4; stratum 2; poll; precision
      0x00, 0x00, 0x01, 0x00,  // root delay 1/256 s
      0x00, 0x00, 0x00, 0x80,  // root dispersion
      0xc0, 0x00, 0x02, 0x01,  // reference id 192.0.2.1
      0xeb, 0x3c, 0x4a, 0x00, 0x00, 0x00, 0x00, 0x00,  // reference time
      0,    0,    0,    0,    0,    0,    0,    0,     // originate (below)
      0xeb, 0x3c, 0x4a, 0x10, 0x80, 0x00, 0x00, 0x00,  // receive
      0xeb, 0x3c, 0x4a, 0x10, 0x80, 0x00, 0x10, 0x00,  // transmit
  };
  for (int i = 0; i < 8; ++i) b[24 + i] = static_cast<std::uint8_t>(sent >> (56 - 8 * i));
  return b;
}

std::string why_rejected(const std::vector<std::uint8_t>& b, NtpTimestamp sent) {
  std::string why;
  CHECK(!parse_sntp_reply(b, sent, &why));
  return why;
}

constexpr NtpTimestamp sec(std::uint64_t s, std::uint32_t frac = 0) { return (s << 32) | frac; }


}  // namespace

TEST_CASE("sntp: NTP timestamps of known times, across the 2036 era wrap", "[doctor][sntp]") {
  using std::chrono::system_clock;
  CHECK(to_ntp_time(system_clock::time_point{}) == 0x83AA7E8000000000ULL);  // 1970 = 2208988800
  CHECK(to_ntp_time(system_clock::time_point{500ms}) == 0x83AA7E8080000000ULL);
  CHECK(to_ntp_time(system_clock::time_point{-1s}) == 0x83AA7E7F00000000ULL);
  // 2036-02-07T06:28:16Z is 2^32 s after 1900: era 1 starts at 0.
  system_clock::time_point wrap{std::chrono::seconds(4294967296LL - 2208988800LL)};
  CHECK(to_ntp_time(wrap) == 0);
  CHECK(to_ntp_time(wrap - 1s) == 0xFFFFFFFF00000000ULL);
  CHECK(ntp_difference(to_ntp_time(wrap + 1s), to_ntp_time(wrap - 1s)) == 2s);
  CHECK(ntp_difference(to_ntp_time(wrap - 1s), to_ntp_time(wrap + 1s)) == -2s);
  // 2026-12-01T12:00:00.25Z
  system_clock::time_point t{std::chrono::seconds(1796126400) + 250ms};
  CHECK(to_ntp_time(t) == ((std::uint64_t{1796126400 + 2208988800ULL} << 32) | 0x40000000U));
}

TEST_CASE("sntp: differences are exact to the nanosecond, in both directions", "[doctor][sntp]") {
  CHECK(ntp_difference(sec(10), sec(10)) == 0ns);
  CHECK(ntp_difference(sec(10, 0x80000000), sec(10)) == 500ms);
  CHECK(ntp_difference(sec(10), sec(10, 0x80000000)) == -500ms);
  CHECK(ntp_difference(sec(100), sec(40)) == 60s);
  CHECK(ntp_difference(sec(40), sec(100)) == -60s);
  CHECK(ntp_difference(sec(0, 1), sec(0)) == 0ns);  // 2^-32 s rounds down to 0 ns
  CHECK(ntp_difference(sec(0, 5), sec(0)) == 1ns);
  CHECK(ntp_difference(sec(0x7fffffff), sec(0)) == std::chrono::seconds(0x7fffffff));
}

TEST_CASE("sntp: offset and delay from t1..t4 (RFC 4330 section 5)", "[doctor][sntp]") {
  // The client is 300 s behind; 100 ms each way; the server holds the request for 50 ms.
  NtpTimestamp t1 = sec(1000);
  NtpTimestamp t2 = sec(1300, 0x1999999A);  // 1300.1 (server clock)
  NtpTimestamp t3 = sec(1300, 0x26666666);  // 1300.15
  NtpTimestamp t4 = sec(1000, 0x40000000);  // 1000.25 (client clock)
  auto t = sntp_timing(t1, t2, t3, t4);
  CHECK(std::chrono::abs(t.offset - 300s) < 1us);
  CHECK(std::chrono::abs(t.delay - 200ms) < 1us);
  // The client ahead: a negative offset.
  auto ahead = sntp_timing(sec(2000), sec(1990), sec(1990), sec(2000));
  CHECK(ahead.offset == -10s);
  CHECK(ahead.delay == 0ns);
  // Asymmetric paths move the offset by half the asymmetry: 0.3 s out, 0.1 s back.
  auto asym = sntp_timing(sec(0), sec(0, 0x4CCCCCCD), sec(0, 0x4CCCCCCD), sec(0, 0x66666666));
  CHECK(std::chrono::abs(asym.offset - 100ms) < 1us);
  CHECK(std::chrono::abs(asym.delay - 400ms) < 1us);
  // Across the era wrap: t1 in era 0, the server's times in era 1.
  auto wrap = sntp_timing(0xFFFFFFFF00000000ULL, sec(5), sec(5), 0xFFFFFFFF00000000ULL);
  CHECK(wrap.offset == 6s);
}

TEST_CASE("sntp: the request is 48 bytes, LI 0 / VN 4 / mode 3, with our transmit timestamp",
          "[doctor][sntp]") {
  auto r = make_sntp_request(0x0102030405060708ULL);
  REQUIRE(r.size() == 48);
  CHECK(r[0] == 0x23);
  for (int i = 1; i < 40; ++i) CHECK(r[i] == 0);
  CHECK(r[40] == 0x01);
  CHECK(r[47] == 0x08);
  auto p = decode_ntp_packet(r);
  REQUIRE(p);
  CHECK(p->mode == 3);
  CHECK(p->version == 4);
  CHECK(p->transmit == 0x0102030405060708ULL);
  // encode . decode is the identity on the header.
  NtpPacket q;
  q.leap = 2;
  q.version = 3;
  q.mode = 4;
  q.stratum = 7;
  q.poll = -3;
  q.precision = -20;
  q.root_delay = 0x12345678;
  q.root_dispersion = 0x9abcdef0;
  q.reference_id = 0x47505300;
  q.reference = 1;
  q.originate = 2;
  q.receive = 3;
  q.transmit = 4;
  auto back = decode_ntp_packet(encode_ntp_packet(q));
  REQUIRE(back);
  CHECK(back->leap == 2);
  CHECK(back->version == 3);
  CHECK(back->stratum == 7);
  CHECK(back->poll == -3);
  CHECK(back->precision == -20);
  CHECK(back->root_dispersion == 0x9abcdef0);
  CHECK(back->transmit == 4);
}

TEST_CASE("sntp: a valid reply is accepted and its fields read", "[doctor][sntp]") {
  NtpTimestamp sent = 0x1122334455667788ULL;
  auto b = reply_bytes(sent);
  auto p = parse_sntp_reply(b, sent);
  REQUIRE(p);
  CHECK(p->stratum == 2);
  CHECK(p->precision == -20);
  CHECK(p->poll == 6);
  CHECK(p->root_delay == 0x100);
  CHECK(p->originate == sent);
  CHECK(p->receive == 0xeb3c4a1080000000ULL);
  CHECK(p->transmit == 0xeb3c4a1080001000ULL);
  CHECK(reference_id_text(p->reference_id, p->stratum) == "192.0.2.1");
  // Extension fields after the header are ignored; version 3 servers are fine.
  b.resize(48 + 16, 0xaa);
  b[0] = 0x1c;  // LI 0, VN 3, mode 4
  CHECK(parse_sntp_reply(b, sent));
  // A leap second announced (LI 1 or 2) is still a synchronized server.
  b[0] = 0x64;
  CHECK(parse_sntp_reply(b, sent));
}

TEST_CASE("sntp: a reply captured from a real chronyd 4.3 (local stratum 10)", "[doctor][sntp]") {
  // fuzz/corpus/sntp/chronyd-reply: the answer to a request with transmit 0x1234567890abcdef.
  const std::vector<std::uint8_t> b = {0x24, 0x0a, 0x00, 0xe7, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                       0x00, 0x00, 0x7f, 0x7f, 0x01, 0x01, 0xee, 0xb9, 0xb9, 0x32,
                                       0x66, 0x40, 0x06, 0x32, 0x12, 0x34, 0x56, 0x78, 0x90, 0xab,
                                       0xcd, 0xef, 0xee, 0xb9, 0xb9, 0x33, 0xf1, 0xe4, 0xb5, 0x33,
                                       0xee, 0xb9, 0xb9, 0x33, 0xf1, 0xe9, 0x29, 0x9a};
  auto p = parse_sntp_reply(b, 0x1234567890abcdefULL);
  REQUIRE(p);
  CHECK(p->leap == 0);
  CHECK(p->version == 4);
  CHECK(p->stratum == 10);
  CHECK(p->precision == -25);
  CHECK(reference_id_text(p->reference_id, p->stratum) == "127.127.1.1");
  // It held the request for 291943 / 2^32 s, about 68 microseconds.
  CHECK(ntp_difference(p->transmit, p->receive) == 67973ns);
  // 0xeeb9b933 s after 1900 is 2026-12-01T21:22:59Z.
  CHECK((p->transmit >> 32) - 2208988800ULL == 1796160179ULL);
}

TEST_CASE("sntp: replies that must be rejected say why", "[doctor][sntp]") {
  NtpTimestamp sent = 0x1122334455667788ULL;
  auto good = reply_bytes(sent);
  auto b = good;
  b.resize(47);
  CHECK(why_rejected(b, sent).find("shorter than an NTP packet") != std::string::npos);
  CHECK(why_rejected({}, sent).find("0 bytes") != std::string::npos);

  b = good;
  b[0] = 0x23;  // mode 3: our own request reflected
  CHECK(why_rejected(b, sent).find("mode 3, not a server's reply") != std::string::npos);
  b[0] = 0x25;  // mode 5: broadcast
  CHECK(why_rejected(b, sent).find("mode 5") != std::string::npos);

  CHECK(why_rejected(good, sent + 1).find("originate timestamp") != std::string::npos);

  b = good;
  b[0] = 0x04;  // version 0
  CHECK(why_rejected(b, sent).find("NTP version 0") != std::string::npos);
  b[0] = 0x2c;  // version 5
  CHECK(why_rejected(b, sent).find("NTP version 5") != std::string::npos);

  b = good;
  b[1] = 0;  // kiss-o'-death
  b[12] = 'R';
  b[13] = 'A';
  b[14] = 'T';
  b[15] = 'E';
  CHECK(why_rejected(b, sent).find("kiss-o'-death (RATE)") != std::string::npos);
  b = good;
  b[1] = 16;
  CHECK(why_rejected(b, sent).find("stratum 16") != std::string::npos);
  b[1] = 255;
  CHECK(why_rejected(b, sent).find("stratum 255") != std::string::npos);

  b = good;
  b[0] = 0xe4;  // LI 3
  CHECK(why_rejected(b, sent).find("leap indicator 3") != std::string::npos);

  b = good;
  for (int i = 40; i < 48; ++i) b[i] = 0;
  CHECK(why_rejected(b, sent).find("transmit timestamp is zero") != std::string::npos);
}

TEST_CASE("sntp: reference ids as people read them", "[doctor][sntp]") {
  CHECK(reference_id_text(0x47505300, 1) == "GPS");
  CHECK(reference_id_text(0x50505300, 1) == "PPS");
  CHECK(reference_id_text(0x52415445, 0) == "RATE");
  CHECK(reference_id_text(0x7f7f0101, 10) == "127.127.1.1");
  CHECK(reference_id_text(0x41000142, 1) == "A");  // stops at the NUL
  CHECK(reference_id_text(0x41014243, 1) == "A?BC");
}

TEST_CASE("sntp: --time-server HOST[:PORT] parsing", "[doctor][sntp]") {
  auto s = parse_time_server("pool.ntp.org");
  REQUIRE(s);
  CHECK(s->host == "pool.ntp.org");
  CHECK(s->port == 123);
  CHECK(s->text() == "pool.ntp.org:123");
  s = parse_time_server(" 127.0.0.1:12345 ");
  REQUIRE(s);
  CHECK(s->host == "127.0.0.1");
  CHECK(s->port == 12345);
  s = parse_time_server("[2001:db8::1]:1123");
  REQUIRE(s);
  CHECK(s->host == "2001:db8::1");
  CHECK(s->port == 1123);
  CHECK(s->text() == "[2001:db8::1]:1123");
  s = parse_time_server("::1");
  REQUIRE(s);
  CHECK(s->host == "::1");
  CHECK(s->port == 123);
  CHECK(parse_time_server("[::1]")->port == 123);

  std::string why;
  for (const char* bad : {"", "  ", "host:", "host:0", "host:65536", "host:12a", "[::1", "[::1]x",
                          ":123", "a b", "[]:123"}) {
    INFO(bad);
    why.clear();
    CHECK(!parse_time_server(bad, &why));
    CHECK(!why.empty());
  }
  parse_time_server("host:99999", &why);
  CHECK(why.find("from 1 to 65535") != std::string::npos);
}

TEST_CASE("sntp: timesyncd.conf NTP= and FallbackNTP=, with drop-ins resetting", "[doctor][sntp]") {
  std::vector<std::string> ntp, fallback;
  apply_timesyncd_conf(
      "# generated by NixOS\n[Time]\nNTP=0.nixos.pool.ntp.org 1.nixos.pool.ntp.org\n"
      "FallbackNTP=time.example.org\n[Other]\nNTP=ignored.example\n",
      ntp, fallback);
  CHECK(ntp == std::vector<std::string>{"0.nixos.pool.ntp.org", "1.nixos.pool.ntp.org"});
  CHECK(fallback == std::vector<std::string>{"time.example.org"});
  apply_timesyncd_conf("[Time]\nNTP=\nNTP=10.0.0.1 10.0.0.1\n", ntp, fallback);  // drop-in
  CHECK(ntp == std::vector<std::string>{"10.0.0.1"});
  CHECK(fallback.size() == 1);
  apply_timesyncd_conf("NTP=outside.section\n[Time]\n;NTP=commented\n", ntp, fallback);
  CHECK(ntp.size() == 1);
}

TEST_CASE("sntp: chrony.conf server and pool lines, port options, includes", "[doctor][sntp]") {
  std::vector<std::string> includes;
  auto s = parse_chrony_conf(
      "# Debian's default\npool 2.debian.pool.ntp.org iburst\n"
      "server 127.0.0.1 port 12345 iburst minpoll 4\n"
      "! server commented.example\n"
      "server [2001:db8::1] iburst\n"
      "server 127.0.0.1 port 12345\n"  // duplicate
      "peer peer.example\n"
      "confdir /etc/chrony/conf.d\nsourcedir /run/chrony-dhcp\ninclude /etc/chrony/x/*.conf\n"
      "server\n",
      &includes);
  REQUIRE(s.size() == 3);
  CHECK(s[0].host == "2.debian.pool.ntp.org");
  CHECK(s[0].port == 123);
  CHECK(s[1].host == "127.0.0.1");
  CHECK(s[1].port == 12345);
  CHECK(s[2].host == "2001:db8::1");
  CHECK(includes ==
        std::vector<std::string>{"/etc/chrony/conf.d", "/run/chrony-dhcp", "/etc/chrony/x/*.conf"});
}

TEST_CASE("sntp: query_sntp measures the offset of a responder 300 s ahead", "[doctor][sntp]") {
  SntpResponder ahead({.offset = 300s});
  TimeServer s{"127.0.0.1", ahead.port()};
  auto r = query_sntp(s, 2s);
  INFO(r.error);
  REQUIRE(r.measurement);
  CHECK(r.failure == SntpFailure::none);
  CHECK(std::chrono::abs(r.measurement->offset - 300s) < 100ms);
  CHECK(r.measurement->delay >= -1ms);
  CHECK(r.measurement->delay < 500ms);
  CHECK(r.measurement->stratum == 2);
  CHECK(r.measurement->reference == "192.0.2.1");
  CHECK(r.measurement->server == ahead.endpoint());
  CHECK(r.measurement->address == ahead.endpoint());
  CHECK(ahead.queries() == 1);

  SntpResponder behind({.offset = -42s});
  auto b = query_sntp({"127.0.0.1", behind.port()}, 2s);
  REQUIRE(b.measurement);
  CHECK(std::chrono::abs(b.measurement->offset + 42s) < 100ms);

  // A stray datagram with the wrong originate is ignored; the real answer then counts.
  SntpResponder stray({.offset = 5s, .wrong_originate = true});
  auto st = query_sntp({"127.0.0.1", stray.port()}, 2s);
  INFO(st.error);
  REQUIRE(st.measurement);
  CHECK(std::chrono::abs(st.measurement->offset - 5s) < 100ms);
}

TEST_CASE("sntp: no answer, refused, and unusable answers are failures that name the server",
          "[doctor][sntp]") {
  SntpResponder silent({.silent = true});
  auto start = std::chrono::steady_clock::now();
  auto r = query_sntp({"127.0.0.1", silent.port()}, 500ms);
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(!r.measurement);
  CHECK(r.failure == SntpFailure::timeout);
  CHECK(r.error.find(silent.endpoint()) != std::string::npos);
  CHECK(r.error.find("may be blocked") != std::string::npos);
  CHECK(took >= 450ms);
  CHECK(took < 2s);
  CHECK(silent.queries() == 1);

  auto refused = query_sntp({"127.0.0.1", tsfleet::testing::free_loopback_port(/*udp=*/true)}, 1s);
  CHECK(refused.failure == SntpFailure::refused);
  CHECK(refused.error.find("refused") != std::string::npos);

  SntpResponder kod({.stratum = 0, .reference_id = 0x44454e59});  // DENY
  auto k = query_sntp({"127.0.0.1", kod.port()}, 1s);
  CHECK(k.failure == SntpFailure::bad_reply);
  CHECK(k.error.find("kiss-o'-death (DENY)") != std::string::npos);
  CHECK(k.error.find(kod.endpoint()) != std::string::npos);

  SntpResponder unsynced({.leap = 3});
  auto u = query_sntp({"127.0.0.1", unsynced.port()}, 1s);
  CHECK(u.failure == SntpFailure::bad_reply);
  CHECK(u.error.find("not synchronized") != std::string::npos);

  auto name = query_sntp({"no-such-host.invalid", 123}, 1s);
  CHECK(name.failure == SntpFailure::resolve);
  CHECK(name.error.find("no-such-host.invalid") != std::string::npos);
}
