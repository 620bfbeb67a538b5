#include <catch2/catch.hpp>

#include "support/helpers.h"
#include "tsfleet/module_emitter.h"

using namespace tsfleet;

TEST_CASE("nix_string escapes everything that could end or interpolate a string") {
  CHECK(nix_string("plain") == "\"plain\"");
  CHECK(nix_string("a\"b") == "\"a\\\"b\"");
  CHECK(nix_string("a\\b") == "\"a\\\\b\"");
  CHECK(nix_string("${x}") == "\"\\${x}\"");
  CHECK(nix_string("$${x}") == "\"$\\${x}\"");
  CHECK(nix_string("a$b") == "\"a$b\"");
  CHECK(nix_string("l1\nl2\t") == "\"l1\\nl2\\t\"");
}

TEST_CASE("attribute names are quoted unless they are plain identifiers") {
  CHECK(nix_attr_name("tailscale_preauth") == "tailscale_preauth");
  CHECK(nix_attr_name("ts-key") == "ts-key");
  CHECK(nix_attr_name("hosts/p620") == "\"hosts/p620\"");
  CHECK(nix_attr_name("1key") == "\"1key\"");
  CHECK(nix_attr_name("in") == "\"in\"");
  CHECK(nix_attr_name("a${b}") == "\"a\\${b}\"");
}

TEST_CASE("the four seed hosts' modules match the reviewed golden files") {
  auto plans = plan(load_default_fleet());
  for (const auto& p : plans) {
    INFO(p.name);
    std::string golden = testing::read_file(testing::source_dir() / "tests/fixtures/golden/default" / (p.name + ".nix"));
    CHECK(render_host_module(p, kEmbeddedFleetName) == golden);
  }
}

TEST_CASE("rendering is deterministic and carries the generated header") {
  auto plans = plan(load_default_fleet());
  std::string a = render_host_module(plans[0], "tsfleet.json"), b = render_host_module(plans[0], "tsfleet.json");
  CHECK(a == b);
  CHECK(has_generated_header(a));
  CHECK(a.find("from tsfleet.json for host \"p620\"") != std::string::npos);
  CHECK_FALSE(has_generated_header("{ config, ... }: { }"));
}

TEST_CASE("a description cannot break out of its comment line") {
  Fleet f = load_fleet(R"({"schema_version": 1, "hosts": {"h": {"roles": ["client"], "description": "x\n}; evil = true; #"}}})", "f");
  std::string text = render_host_module(plan(f)[0], "f");
  CHECK(text.find("\n}; evil") == std::string::npos);
  CHECK(text.find("# x?}; evil = true; #") != std::string::npos);
}
