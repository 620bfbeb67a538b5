#include <catch2/catch.hpp>

#include "support/helpers.h"

using namespace tsfleet::testing;

TEST_CASE("the tsfleet binary runs") {
  auto r = run_tsfleet({"--version"});
  CHECK(r.exit_code >= 0);
}
