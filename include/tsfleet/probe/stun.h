#pragma once
// STUN Binding (RFC 5389 / 8489), the part tailscale's netcheck uses: a Binding Request with a
// random transaction ID, and the mapped address in the server's Binding Success Response. This is
// what lets `tsfleet test` see the NAT the way tailscaled does, without the tailscale CLI.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tsfleet::probe::stun {

inline constexpr std::uint32_t kMagicCookie = 0x2112A442;
inline constexpr std::uint16_t kDefaultPort = 3478;

using TxId = std::array<std::uint8_t, 12>;

// A fresh random transaction ID (from the OS's random source).
TxId random_txid();

// A Binding Request: the 20-byte header, SOFTWARE ("tsfleet") and FINGERPRINT.
std::vector<std::uint8_t> binding_request(const TxId& txid);

// The address a STUN server saw us at.
struct MappedAddress {
  std::string ip;  // dotted quad or IPv6 text
  std::uint16_t port = 0;
  bool ipv6 = false;
  // "ip:port", or "[ip]:port" for IPv6 (the form netcheck.Report's GlobalV4/GlobalV6 use).
  std::string endpoint() const;
  friend bool operator==(const MappedAddress&, const MappedAddress&) = default;
};

// What a datagram turned out to be.
struct Response {
  TxId txid{};
  bool success = false;              // a Binding Success Response (else an error response)
  std::optional<MappedAddress> mapped;  // XOR-MAPPED-ADDRESS, else MAPPED-ADDRESS
  std::uint16_t error_code = 0;      // Binding Error Response: ERROR-CODE (e.g. 400)
  std::string software;              // the server's SOFTWARE attribute, if any
};

// Parses a datagram as a STUN Binding response. nullopt, with `why` set when given, for anything
// else: too short, not STUN (top bits, magic cookie), a length that disagrees with the datagram,
// a truncated attribute, a FINGERPRINT that does not match. Any bytes: never reads past `bytes`.
std::optional<Response> parse_response(std::span<const std::uint8_t> bytes,
                                       std::string* why = nullptr);

// The FINGERPRINT value of a message prefix (RFC 5389 §15.5: CRC-32 XOR 0x5354554e).
std::uint32_t fingerprint(std::span<const std::uint8_t> bytes);

}  // namespace tsfleet::probe::stun
