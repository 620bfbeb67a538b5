// tsfleet::parse_duration (tsfleet/time_text.h): the one reader of duration options for every
// verb (up --timeout, monitor --interval/--expiry-warning, test --timeout ...).
#include <catch2/catch.hpp>
#include <chrono>

#include "tsfleet/time_text.h"

using namespace std::chrono;
using tsfleet::parse_duration;

TEST_CASE("durations: Go-style parts, days and weeks, fractions, bare seconds") {
  CHECK(parse_duration("90s") == seconds(90));
  CHECK(parse_duration("2m") == minutes(2));
  CHECK(parse_duration("1m30s") == seconds(90));
  CHECK(parse_duration("1h30m") == minutes(90));
  CHECK(parse_duration("500ms") == milliseconds(500));
  CHECK(parse_duration("1.5s") == milliseconds(1500));
  CHECK(parse_duration("0.1s") == milliseconds(100));
  CHECK(parse_duration("1h") == hours(1));
  CHECK(parse_duration("14d") == hours(24 * 14));
  CHECK(parse_duration("2w") == hours(24 * 14));
  CHECK(parse_duration("45") == seconds(45));
  CHECK(parse_duration("0s") == milliseconds(0));
  CHECK(parse_duration("1s500ms") == milliseconds(1500));
}

TEST_CASE("durations: anything else is refused, never thrown") {
  for (const char* bad : {"", "s", "ms", "10x", "-1s", "-5s", "1..5s", "1.s", ".5s", "soon",
                          "1s2", "1 s", " 1s", "1s ", "5sec", "1e3s", "99999999999999h",
                          "99999999999999999999d", "101y", "36600d", "1000000000000"})
    CHECK_FALSE(parse_duration(bad));
  CHECK(parse_duration("36500d") == hours(24 * 36500));  // 100 years is the limit
}
