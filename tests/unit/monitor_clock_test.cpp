// RFC 3339 and durations as monitor reads them from tailscaled and from the command line.
#include <catch2/catch.hpp>

#include "tsfleet/monitor/clock.h"

using namespace tsfleet::monitor;
using namespace std::chrono;

TEST_CASE("RFC 3339 as Go writes it parses to the right instant", "[monitor][clock]") {
  auto t = parse_rfc3339("2026-12-01T11:58:30.123456789Z");
  REQUIRE(t);
  CHECK(format_rfc3339(*t) == "2026-12-01T11:58:30.123Z");
  CHECK(duration_cast<seconds>(t->time_since_epoch()).count() == 1796126310);

  auto plain = parse_rfc3339("2027-05-30T10:00:00Z");
  REQUIRE(plain);
  CHECK(format_rfc3339(*plain) == "2027-05-30T10:00:00.000Z");

  auto offset = parse_rfc3339("2027-05-30T12:00:00+02:00");
  REQUIRE(offset);
  CHECK(*offset == *plain);
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z"));  // leap day
}

TEST_CASE("RFC 3339: Go's zero time and malformed text are no time at all", "[monitor][clock]") {
  CHECK_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339(""));
  CHECK_FALSE(parse_rfc3339("2027-05-30"));
  CHECK_FALSE(parse_rfc3339("2027-05-30T10:00:00"));   // no zone
  CHECK_FALSE(parse_rfc3339("2027-02-30T10:00:00Z"));  // no such day
  CHECK_FALSE(parse_rfc3339("2023-02-29T10:00:00Z"));  // not a leap year
  CHECK_FALSE(parse_rfc3339("2027-05-30T10:00:00Zjunk"));
  CHECK_FALSE(parse_rfc3339("2027-05-30T25:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2027-05-30T10:00:00.Z"));
  CHECK_FALSE(
      parse_rfc3339("4052-12-01T11:58:30Z"));  // past system_clock's range (found by fuzzing)
}

TEST_CASE("formatting the epoch and times before it", "[monitor][clock]") {
  CHECK(format_rfc3339(TimePoint{}) == "1970-01-01T00:00:00.000Z");
  CHECK(format_rfc3339(TimePoint{} - milliseconds(1)) == "1969-12-31T23:59:59.999Z");
}

TEST_CASE("durations print the way monitor logs them", "[monitor][clock]") {
  CHECK(format_duration(hours(24 * 14)) == "14d");
  CHECK(format_duration(minutes(90)) == "1h30m");
  CHECK(format_duration(milliseconds(250)) == "250ms");
  CHECK(format_duration(seconds(75)) == "1m15s");
}
