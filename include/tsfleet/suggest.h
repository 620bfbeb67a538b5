#pragma once
// "Did you mean" for unknown keys, options and flags.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet {

// Edit distance (insert, delete, substitute, transpose adjacent) between a and b.
size_t edit_distance(std::string_view a, std::string_view b);

// The closest candidate to `word` if it is close enough to be a likely typo
// (distance <= max(1, len/3)), else nullopt.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace tsfleet
