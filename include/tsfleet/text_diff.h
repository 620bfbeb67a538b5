#pragma once
// Line diffs for `configure --check`: what would change on disk, in unified format.
#include <string>
#include <string_view>

namespace tsfleet {

// A unified diff (3 lines of context) from `before` to `after`, with ---/+++ headers naming the
// two sides. Empty when the texts are equal.
std::string unified_diff(std::string_view before, std::string_view after, std::string_view before_name,
                         std::string_view after_name);

}  // namespace tsfleet
