// STUN Binding codec (tsfleet/probe/stun.h) on the RFC 5769 test vectors, and the choice of STUN
// servers from a DERP map.
#include <catch2/catch.hpp>
#include <cstdint>
#include <vector>

#include "tsfleet/localapi/types.h"
#include "tsfleet/probe/netcheck.h"
#include "tsfleet/probe/stun.h"

using namespace tsfleet;
using namespace tsfleet::probe;

namespace {

// RFC 5769 §2.2: a Binding success response, IPv4 XOR-MAPPED-ADDRESS 192.0.2.1:32853, with
// SOFTWARE "test vector", MESSAGE-INTEGRITY and FINGERPRINT.
const std::vector<std::uint8_t> kRfc5769V4 = {
    0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
    0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
    0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01, 0xa1, 0x47, 0xe1,
    0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99, 0xfd, 0x9e, 0x90, 0xc3,
    0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b, 0xe7, 0xd7, 0x80, 0x28, 0x00,
    0x04, 0xc0, 0x7d, 0x4c, 0x96};

// RFC 5769 §2.3: the same with an IPv6 address, 2001:db8:1234:5678:11:2233:4455:6677 port 32853.
const std::vector<std::uint8_t> kRfc5769V6 = {
    0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34, 0xd6,
    0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74, 0x20, 0x76,
    0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02, 0xa1, 0x47, 0x01,
    0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5, 0xbe, 0xd2, 0xb9, 0xd9,
    0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6, 0x7b, 0xf1, 0x17, 0x84, 0xc9,
    0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41, 0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb,
    0x0b, 0x4c};

const stun::TxId kVectorTxId = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
                                0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

}  // namespace

TEST_CASE("STUN: the RFC 5769 responses give their mapped addresses") {
  std::string why;
  auto v4 = stun::parse_response(kRfc5769V4, &why);
  INFO(why);
  REQUIRE(v4);
  CHECK(v4->success);
  CHECK(v4->txid == kVectorTxId);
  REQUIRE(v4->mapped);
  CHECK(v4->mapped->ip == "192.0.2.1");
  CHECK(v4->mapped->port == 32853);
  CHECK(v4->mapped->endpoint() == "192.0.2.1:32853");
  CHECK(v4->software == "test vector");

  auto v6 = stun::parse_response(kRfc5769V6, &why);
  INFO(why);
  REQUIRE(v6);
  REQUIRE(v6->mapped);
  CHECK(v6->mapped->ipv6);
  CHECK(v6->mapped->ip == "2001:db8:1234:5678:11:2233:4455:6677");
  CHECK(v6->mapped->endpoint() == "[2001:db8:1234:5678:11:2233:4455:6677]:32853");
}

TEST_CASE("STUN: a changed byte, a cut datagram or a non-STUN packet is refused with a reason") {
  auto bad = kRfc5769V4;
  bad[45] ^= 0x01;  // inside XOR-MAPPED-ADDRESS: the FINGERPRINT no longer matches
  std::string why;
  CHECK_FALSE(stun::parse_response(bad, &why));
  CHECK(why == "STUN FINGERPRINT does not match");

  for (std::size_t n = 0; n < kRfc5769V4.size(); ++n) {
    std::span<const std::uint8_t> cut(kRfc5769V4.data(), n);
    CHECK_FALSE(stun::parse_response(cut));
  }
  auto dns_like = kRfc5769V4;
  dns_like[4] = 0;  // no magic cookie
  CHECK_FALSE(stun::parse_response(dns_like, &why));
  CHECK(why == "not STUN: no magic cookie");

  // A Binding *request* is not an answer.
  auto req = stun::binding_request(kVectorTxId);
  CHECK_FALSE(stun::parse_response(req, &why));
  CHECK(why == "not a Binding response");
}

TEST_CASE("STUN: our Binding request is well formed and carries a valid FINGERPRINT") {
  auto txid = stun::random_txid();
  auto req = stun::binding_request(txid);
  REQUIRE(req.size() == 20 + 12 + 8);  // header, SOFTWARE "tsfleet" (7 + 1 pad), FINGERPRINT
  CHECK(req[0] == 0x00);
  CHECK(req[1] == 0x01);                                   // Binding request
  CHECK(((req[2] << 8) | req[3]) == int(req.size() - 20));  // length excludes the header
  CHECK(req[4] == 0x21);
  CHECK(req[7] == 0x42);  // magic cookie
  CHECK(std::equal(txid.begin(), txid.end(), req.begin() + 8));
  std::uint32_t fp = std::uint32_t{req[req.size() - 4]} << 24 |
                     std::uint32_t{req[req.size() - 3]} << 16 |
                     std::uint32_t{req[req.size() - 2]} << 8 | req[req.size() - 1];
  CHECK(fp == stun::fingerprint(std::span(req).first(req.size() - 8)));
  CHECK(stun::random_txid() != txid);
}

TEST_CASE("netcheck by STUN: the servers of a DERP map, as tailscale picks them") {
  localapi::DerpMap map;
  auto node = [](std::string name, std::int64_t region, std::string v4, std::string v6) {
    localapi::DerpNode n;
    n.name = std::move(name);
    n.region_id = region;
    n.host_name = "derp" + n.name + ".invalid";
    n.ipv4 = std::move(v4);
    n.ipv6 = std::move(v6);
    return n;
  };
  localapi::DerpRegion fra{4, "fra", "Frankfurt", false, {}};
  fra.nodes = {node("4a", 4, "192.0.2.4", "2001:db8::4"), node("4b", 4, "192.0.2.5", "none"),
               node("4c", 4, "192.0.2.6", "")};  // only the first two nodes
  localapi::DerpRegion nyc{1, "nyc", "New York City", false, {}};
  nyc.nodes = {node("1a", 1, "192.0.2.1", "none")};
  nyc.nodes[0].stun_port = -1;  // no STUN on this node
  nyc.nodes.push_back(node("1b", 1, "192.0.2.2", "none"));
  nyc.nodes.back().stun_port = 3479;
  localapi::DerpRegion lab{900, "lab", "Lab", false, {}};
  lab.nodes = {node("900a", 900, "none", "none")};
  lab.nodes[0].stun_test_ip = "203.0.113.10";
  map.regions = {{"4", fra}, {"1", nyc}, {"900", lab}};

  auto t = stun_targets(map, /*resolve_names=*/false);
  std::vector<std::string> got;
  for (const auto& x : t) got.push_back(std::to_string(x.region_id) + " " + x.node + " " + x.endpoint());
  CHECK(got == std::vector<std::string>{"1 1b 192.0.2.2:3479", "4 4a 192.0.2.4:3478",
                                        "4 4a [2001:db8::4]:3478", "4 4b 192.0.2.5:3478",
                                        "900 900a 203.0.113.10:3478"});
}

TEST_CASE("netcheck by STUN: nobody answering means UDP is blocked, and the report says so") {
  // 127.0.0.1:9 (discard) on loopback: nothing answers STUN there.
  StunTarget t;
  t.region_id = 900;
  t.region_code = "lab";
  t.node = "900a";
  t.ip = "127.0.0.1";
  t.port = 9;
  StunOptions o;
  o.timeout = std::chrono::milliseconds(300);
  o.retransmit = std::chrono::milliseconds(100);
  auto r = stun_netcheck({t}, o);
  CHECK_FALSE(r.udp);
  CHECK(r.ipv4_can_send);
  CHECK(r.preferred_derp == 0);
  CHECK_FALSE(r.mapping_varies_by_dest_ip);
  REQUIRE(r.notes.size() == 1);
  CHECK_THAT(r.notes[0], Catch::Contains("127.0.0.1:9") && Catch::Contains("no answer to 3"));
  auto res = netcheck_result(r, {"desk"});
  CHECK(res.outcome == Outcome::fail);
  CHECK_THAT(res.detail, Catch::Contains("by STUN"));
  CHECK_THAT(res.summary, Catch::Contains("UDP blocked") && Catch::Contains("relayed: desk"));
}
