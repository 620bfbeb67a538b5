#pragma once
// IPv4/IPv6 prefixes as tailscale accepts them for --advertise-routes.
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tsfleet {

struct Cidr {
  bool v6 = false;
  std::array<uint8_t, 16> addr{};  // v4 uses the first 4 bytes
  int prefix = 0;

  std::string to_string() const;  // canonical text, e.g. "192.168.1.0/24", "fd7a:115c::/48"
  bool contains(const Cidr& other) const;
  bool overlaps(const Cidr& other) const;
  bool host_bits_set() const;  // e.g. 192.168.1.5/24
  Cidr masked() const;         // the same prefix with host bits cleared
  bool is_default_route() const { return prefix == 0; }
  bool operator==(const Cidr&) const = default;
};

// Parses "a.b.c.d/n" or "v6::addr/n". Returns nullopt with `why` set on failure. Host bits set
// are accepted here (check host_bits_set()); the caller decides whether that is an error.
std::optional<Cidr> parse_cidr(std::string_view text, std::string* why = nullptr);

}  // namespace tsfleet
