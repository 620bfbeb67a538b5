// Parsers of the test probes: ICMP replies, DNS answers, `ip route get` text, netcheck reports.
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "support/helpers.h"
#include "tsfleet/error.h"
#include "tsfleet/probe/checks.h"
#include "tsfleet/probe/dns.h"
#include "tsfleet/probe/icmp.h"
#include "tsfleet/probe/netcheck.h"
#include "tsfleet/probe/route.h"
#include "tsfleet/probe/suite.h"

using namespace tsfleet;
using namespace tsfleet::probe;
using Bytes = std::vector<std::uint8_t>;

namespace {

// An IPv4 header (20 bytes) from src to dst carrying `icmp`.
Bytes ip_packet(const Bytes& icmp, std::array<std::uint8_t, 4> src,
                std::array<std::uint8_t, 4> dst) {
  Bytes p = {0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 1, 0, 0};
  std::size_t total = 20 + icmp.size();
  p[2] = static_cast<std::uint8_t>(total >> 8);
  p[3] = static_cast<std::uint8_t>(total);
  p.insert(p.end(), src.begin(), src.end());
  p.insert(p.end(), dst.begin(), dst.end());
  p.insert(p.end(), icmp.begin(), icmp.end());
  return p;
}

Bytes with_checksum(Bytes icmp) {
  icmp[2] = icmp[3] = 0;
  auto s = internet_checksum(icmp);
  icmp[2] = static_cast<std::uint8_t>(s >> 8);
  icmp[3] = static_cast<std::uint8_t>(s);
  return icmp;
}

}  // namespace

TEST_CASE("an echo reply is recognised with its id, sequence and source") {
  Bytes icmp = with_checksum({0, 0, 0, 0, 0x12, 0x34, 0x00, 0x07, 'p', 'i', 'n', 'g'});
  auto p = parse_icmp_packet(ip_packet(icmp, {100, 64, 0, 2}, {100, 64, 0, 1}), true);
  REQUIRE(p);
  CHECK(p->type == 0);
  CHECK(p->id == 0x1234);
  CHECK(p->seq == 7);
  CHECK(p->source == "100.64.0.2");
  CHECK(p->payload_size == 4);
  CHECK(p->checksum_ok);
  // A datagram socket hands over the ICMP message without the IP header.
  auto d = parse_icmp_packet(icmp, false);
  REQUIRE(d);
  CHECK(d->seq == 7);
}

TEST_CASE("fragmentation-needed carries the next-hop MTU and the original echo") {
  Bytes original_echo = {8, 0, 0, 0, 0xab, 0xcd, 0x00, 0x02};
  Bytes inner = ip_packet(original_echo, {100, 64, 0, 1}, {100, 64, 0, 9});
  Bytes icmp = {3, 4, 0, 0, 0, 0, 0x04, 0xb0};  // MTU 1200
  icmp.insert(icmp.end(), inner.begin(), inner.end());
  auto p = parse_icmp_packet(ip_packet(with_checksum(icmp), {10, 0, 0, 1}, {100, 64, 0, 1}), true);
  REQUIRE(p);
  CHECK(p->type == 3);
  CHECK(p->code == 4);
  CHECK(p->next_hop_mtu == 1200);
  CHECK(p->has_embedded);
  CHECK(p->embedded_destination == "100.64.0.9");
  CHECK(p->id == 0xabcd);
  CHECK(p->seq == 2);
}

TEST_CASE("truncated or foreign packets are refused, not read past") {
  CHECK_FALSE(parse_icmp_packet(Bytes{}, true));
  CHECK_FALSE(parse_icmp_packet(Bytes{0x45, 0, 0}, true));
  CHECK_FALSE(parse_icmp_packet(Bytes{0, 0, 0}, false));
  Bytes v6 = ip_packet({0, 0, 0, 0, 0, 0, 0, 0}, {1, 2, 3, 4}, {5, 6, 7, 8});
  v6[0] = 0x65;
  CHECK_FALSE(parse_icmp_packet(v6, true));
  Bytes long_ihl = ip_packet({0, 0, 0, 0, 0, 0, 0, 0}, {1, 2, 3, 4}, {5, 6, 7, 8});
  long_ihl[0] = 0x4f;  // 60-byte header claimed in a 28-byte packet
  CHECK_FALSE(parse_icmp_packet(long_ihl, true));
  Bytes tcp = ip_packet({0, 0, 0, 0, 0, 0, 0, 0}, {1, 2, 3, 4}, {5, 6, 7, 8});
  tcp[9] = 6;
  CHECK_FALSE(parse_icmp_packet(tcp, true));
}

TEST_CASE("a bad checksum is reported") {
  Bytes icmp = with_checksum({0, 0, 0, 0, 0, 1, 0, 1});
  icmp[7] ^= 1;
  auto p = parse_icmp_packet(icmp, false);
  REQUIRE(p);
  CHECK_FALSE(p->checksum_ok);
}

TEST_CASE("ICMPv6: an echo reply, and packet-too-big with the MTU and the original echo") {
  Bytes reply = {129, 0, 0x12, 0x34, 0xbe, 0xef, 0x00, 0x09, 'p', 'i', 'n', 'g'};
  auto r = parse_icmp6_packet(reply);
  REQUIRE(r);
  CHECK(r->type == 129);
  CHECK(r->id == 0xbeef);
  CHECK(r->seq == 9);
  CHECK(r->payload_size == 4);

  // Packet too big (type 2), MTU 1280, quoting our echo request to fd7a:115c:a1e0::3.
  Bytes ptb = {2, 0, 0, 0, 0, 0, 0x05, 0x00};
  Bytes ip6 = {0x60, 0, 0, 0, 0, 8, 58, 64};  // version 6, payload 8, next header ICMPv6
  for (int i = 0; i < 16; ++i) ip6.push_back(i == 0 ? 0xfd : 0);  // source fd00::
  Bytes dst = {0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3};
  ip6.insert(ip6.end(), dst.begin(), dst.end());
  Bytes echo = {128, 0, 0, 0, 0xbe, 0xef, 0x00, 0x0a};
  ip6.insert(ip6.end(), echo.begin(), echo.end());
  ptb.insert(ptb.end(), ip6.begin(), ip6.end());
  auto p = parse_icmp6_packet(ptb);
  REQUIRE(p);
  CHECK(p->type == 2);
  CHECK(p->next_hop_mtu == 1280);
  CHECK(p->has_embedded);
  CHECK(p->embedded_destination == "fd7a:115c:a1e0::3");
  CHECK(p->id == 0xbeef);
  CHECK(p->seq == 10);

  for (std::size_t n = 0; n < 8; ++n) CHECK_FALSE(parse_icmp6_packet(std::span(ptb).first(n)));
  auto cut = parse_icmp6_packet(std::span(ptb).first(8 + 39));  // the IPv6 header cut short
  REQUIRE(cut);
  CHECK_FALSE(cut->has_embedded);
}

TEST_CASE("a DNS query round-trips through the parser") {
  Bytes q = build_dns_query(0xbeef, "p620.tail0000.ts.net.");
  auto m = parse_dns_message(q);
  REQUIRE(m);
  CHECK(m->id == 0xbeef);
  CHECK_FALSE(m->response);
  REQUIRE(m->questions.size() == 1);
  CHECK(m->questions[0] == "p620.tail0000.ts.net");
  CHECK_THROWS_AS(build_dns_query(1, "a..b"), Error);
  CHECK_THROWS_AS(build_dns_query(1, ""), Error);
  CHECK_THROWS_AS(build_dns_query(1, std::string(64, 'a') + ".x"), Error);
}

TEST_CASE("DNS answers: compressed names, A and AAAA, CNAME, rcode") {
  Bytes r = build_dns_query(7, "Web1.Example");
  r[2] = 0x81;
  r[3] = 0x80;
  r[7] = 3;  // three answers
  const Bytes cname = {0xc0, 0x0c, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 0x0c};
  const Bytes a = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 100, 64, 0, 5};
  Bytes aaaa = {0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16, 0xfd, 0x7a, 0x11, 0x5c, 0xa1, 0xe0};
  aaaa.resize(aaaa.size() + 9, 0);
  aaaa.push_back(5);
  r.insert(r.end(), cname.begin(), cname.end());
  r.insert(r.end(), a.begin(), a.end());
  r.insert(r.end(), aaaa.begin(), aaaa.end());
  auto m = parse_dns_message(r);
  REQUIRE(m);
  CHECK(m->response);
  CHECK(m->rcode == 0);
  CHECK(m->questions[0] == "web1.example");
  CHECK(m->a == std::vector<std::string>{"100.64.0.5"});
  CHECK(m->aaaa == std::vector<std::string>{"fd7a:115c:a1e0::5"});
  CHECK(m->cnames == std::vector<std::string>{"web1.example"});

  Bytes nx = build_dns_query(8, "gone.example");
  nx[2] = 0x81;
  nx[3] = 0x83;
  auto n = parse_dns_message(nx);
  REQUIRE(n);
  CHECK(n->rcode == 3);
  CHECK(rcode_name(n->rcode) == "NXDOMAIN");
}

TEST_CASE("DNS compression loops and truncation give nullopt") {
  Bytes loop = {0, 1, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 0x0c, 0, 1, 0, 1};
  CHECK_FALSE(parse_dns_message(loop));
  Bytes r = build_dns_query(7, "a.example");
  r[7] = 1;  // claims an answer that is not there
  CHECK_FALSE(parse_dns_message(r));
  CHECK_FALSE(parse_dns_message(Bytes(11, 0)));
}

TEST_CASE("test --dns-server accepts ADDR, ADDR:PORT and system") {
  auto d = parse_dns_server("100.100.100.100");
  CHECK(d.address == "100.100.100.100");
  CHECK(d.port == 53);
  auto p = parse_dns_server("10.1.2.3:5353");
  CHECK(p.port == 5353);
  CHECK(p.to_string() == "10.1.2.3:5353");
  CHECK(parse_dns_server("system").system);
  CHECK_THROWS_AS(parse_dns_server("resolver.example"), Error);
  CHECK_THROWS_AS(parse_dns_server("10.1.2.3:99999"), Error);
}

TEST_CASE("ip route get: the policy table of an exit node, a gateway, errors") {
  auto t52 = parse_ip_route_get(
      "198.51.100.1 dev tailscale0 table 52 src 100.64.0.2 uid 0 \n    cache \n");
  REQUIRE(t52.ok);
  CHECK(t52.dev == "tailscale0");
  CHECK(t52.table == "52");
  CHECK(t52.src == "100.64.0.2");
  auto gw = parse_ip_route_get(
      "198.51.100.1 via 192.168.1.1 dev enp5s0 src 192.168.1.20 uid 1000 \n    cache");
  REQUIRE(gw.ok);
  CHECK(gw.dev == "enp5s0");
  CHECK(gw.via == "192.168.1.1");
  CHECK(gw.table.empty());
  auto local = parse_ip_route_get("local 100.64.0.1 dev lo table local src 100.64.0.1 uid 0");
  REQUIRE(local.ok);
  CHECK(local.type == "local");
  CHECK_FALSE(parse_ip_route_get("").ok);
  CHECK_FALSE(parse_ip_route_get("RTNETLINK answers: Network is unreachable").ok);
  CHECK_FALSE(parse_ip_route_get("10.0.0.1 via 10.0.0.254").ok);  // no dev
}

TEST_CASE("first_host_in picks the first address of a route") {
  CHECK(first_host_in("192.168.10.0/24") == "192.168.10.1");
  CHECK(first_host_in("10.0.0.5/30") == "10.0.0.5");
  CHECK(first_host_in("10.9.9.9/32") == "10.9.9.9");
  CHECK(first_host_in("fd00:10::/64") == "fd00:10::1");
  CHECK(first_host_in("2001:db8:0:1::/56") == "2001:db8::1");
  CHECK(first_host_in("fd00::7/128") == "fd00::7");
  CHECK_FALSE(first_host_in("0.0.0.0/0"));
  CHECK_FALSE(first_host_in("::/0"));
  CHECK_FALSE(first_host_in("nonsense"));
}

namespace {
NetcheckReport fixture(const std::string& name) {
  auto text = testing::read_file(testing::source_dir() / "tests/fixtures/netcheck" / name);
  return parse_netcheck_report(text, name);
}
}  // namespace

TEST_CASE("netcheck reports: easy NAT passes, hard NAT warns, blocked UDP fails") {
  auto easy = fixture("easy-nat.json");
  CHECK(easy.udp);
  CHECK(easy.preferred_derp == 4);
  CHECK(easy.region_latency_ms.at("4") == Approx(12.345678));
  CHECK(easy.global_v4 == "203.0.113.10:41641");
  CHECK(easy.mapping_varies_by_dest_ip == false);
  CHECK_FALSE(easy.hair_pinning.has_value());
  CHECK(explain_relay(easy).empty());
  CHECK(netcheck_result(easy, {}).outcome == Outcome::pass);

  auto hard = fixture("hard-nat.json");
  auto why = explain_relay(hard);
  CHECK_THAT(why, Catch::Contains("hard NAT"));
  CHECK_THAT(why, Catch::Contains("no port mapping"));
  auto r = netcheck_result(hard, {"p510"});
  CHECK(r.outcome == Outcome::warn);
  CHECK_THAT(r.summary, Catch::Contains("relayed: p510"));
  CHECK_FALSE(r.fix.empty());

  auto upnp = fixture("hard-nat-upnp.json");
  CHECK_THAT(explain_relay(upnp), !Catch::Contains("no port mapping"));

  auto blocked = fixture("udp-blocked.json");
  CHECK_THAT(explain_relay(blocked), Catch::Contains("UDP is blocked"));
  CHECK(netcheck_result(blocked, {}).outcome == Outcome::fail);

  auto noderp = fixture("no-derp.json");
  CHECK_THAT(explain_relay(noderp), Catch::Contains("no DERP region"));
}

TEST_CASE("netcheck: wrong types keep defaults, non-objects are input errors") {
  auto r = parse_netcheck_report(R"({"UDP":"yes","PreferredDERP":"4","RegionLatency":{"1":"x"}})");
  CHECK_FALSE(r.udp);
  CHECK(r.preferred_derp == 0);
  CHECK(r.region_latency_ms.empty());
  CHECK_THROWS_AS(parse_netcheck_report("[1,2]"), Error);
  CHECK_THROWS_AS(parse_netcheck_report("{\"UDP\":tru"), Error);
}

TEST_CASE("probe kinds parse with a suggestion for typos") {
  CHECK(parse_probe_kind("exit-node") == ProbeKind::exit_node);
  CHECK(to_string(ProbeKind::dns) == "dns");
  try {
    parse_probe_kind("mtuu");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::usage);
    CHECK_THAT(e.what(), Catch::Contains("did you mean mtu"));
  }
}
