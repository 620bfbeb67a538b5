#pragma once
// A fast hash of short texts (names, option paths) for the hash tables of the parser and the
// module reader (internal to libtsfleet): eight bytes a step. Unseeded, like std::hash: input
// crafted to collide makes lookups compare more, as it would with std::hash.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace tsfleet::detail {

inline size_t text_hash(std::string_view text, uint64_t seed = 0) {
  uint64_t h = (seed ^ text.size()) * 0x9E3779B97F4A7C15ull;
  const char* p = text.data();
  size_t n = text.size();
  for (; n >= 8; p += 8, n -= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ w) * 0xBF58476D1CE4E5B9ull;
    h ^= h >> 31;
  }
  if (n > 0) {
    uint64_t w = 0;
    for (size_t k = 0; k < n; ++k) w |= uint64_t{static_cast<unsigned char>(p[k])} << (8 * k);
    h = (h ^ w) * 0x94D049BB133111EBull;
  }
  return static_cast<size_t>(h ^ (h >> 29));
}

}  // namespace tsfleet::detail
