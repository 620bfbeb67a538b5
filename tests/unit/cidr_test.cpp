#include <catch2/catch.hpp>

#include "tsfleet/cidr.h"

using namespace tsfleet;

TEST_CASE("CIDRs parse, print canonically and know their host bits") {
  auto c = parse_cidr("192.168.1.0/24");
  REQUIRE(c);
  CHECK(c->to_string() == "192.168.1.0/24");
  CHECK_FALSE(c->host_bits_set());
  auto h = parse_cidr("192.168.1.5/24");
  REQUIRE(h);
  CHECK(h->host_bits_set());
  CHECK(h->masked().to_string() == "192.168.1.0/24");
  auto v6 = parse_cidr("fd7a:115c:a1e0:0::/48");
  REQUIRE(v6);
  CHECK(v6->to_string() == "fd7a:115c:a1e0::/48");
}

TEST_CASE("overlap and containment") {
  auto a = *parse_cidr("10.0.0.0/8"), b = *parse_cidr("10.1.0.0/16"), c = *parse_cidr("192.168.0.0/16");
  CHECK(a.contains(b));
  CHECK_FALSE(b.contains(a));
  CHECK(a.overlaps(b));
  CHECK(b.overlaps(a));
  CHECK_FALSE(a.overlaps(c));
  CHECK_FALSE(a.overlaps(*parse_cidr("::/0")));
}

TEST_CASE("bad CIDRs say why") {
  std::string why;
  CHECK_FALSE(parse_cidr("192.168.1.0", &why));
  CHECK(why.find("missing '/prefix'") != std::string::npos);
  CHECK_FALSE(parse_cidr("192.168.1.0/33", &why));
  CHECK(why.find("0 to 32") != std::string::npos);
  CHECK_FALSE(parse_cidr("300.1.1.1/8", &why));
  CHECK_FALSE(parse_cidr("10.0.0.0/x", &why));
  CHECK_FALSE(parse_cidr("::1/129", &why));
}
