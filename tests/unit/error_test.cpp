#include <catch2/catch.hpp>

#include <set>

#include "tsfleet/error.h"

using tsfleet::ErrorCategory;

TEST_CASE("every error category has its own documented non-zero exit code") {
  std::set<int> codes;
  for (auto c : {ErrorCategory::usage, ErrorCategory::input, ErrorCategory::daemon, ErrorCategory::io,
                 ErrorCategory::unavailable, ErrorCategory::auth, ErrorCategory::timeout,
                 ErrorCategory::internal}) {
    int code = tsfleet::exit_code_for(c);
    CHECK(code != 0);
    CHECK(code != tsfleet::exit_code::findings);
    codes.insert(code);
  }
  CHECK(codes.size() == 8);
  CHECK(tsfleet::exit_code_for(ErrorCategory::usage) == 2);
  CHECK(tsfleet::exit_code_for(ErrorCategory::input) == 3);
}
