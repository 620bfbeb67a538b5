#include <catch2/catch.hpp>

#include "support/helpers.h"
#include "tsfleet/version.h"

using namespace tsfleet::testing;

TEST_CASE("tsfleet --version prints the version") {
  auto r = run_tsfleet({"--version"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find(std::string("tsfleet ") + TSFLEET_VERSION) != std::string::npos);
}

TEST_CASE("help lists every verb with what it needs") {
  auto r = run_tsfleet({"--help"});
  CHECK(r.exit_code == 0);
  for (auto verb : {"configure", "check", "up", "status", "test", "monitor", "doctor"}) CHECK(r.out.find(verb) != std::string::npos);
  CHECK(r.out.find("Needs: the fleet file only") != std::string::npos);
  CHECK(r.out.find("Exit codes:") != std::string::npos);
}

TEST_CASE("no verb, or an unknown one, is a usage error (exit 2)") {
  CHECK(run_tsfleet({}).exit_code == 2);
  auto r = run_tsfleet({"configur"});
  CHECK(r.exit_code == 2);
  CHECK(run_tsfleet({"configure", "--no-such-flag"}).exit_code == 2);
}
