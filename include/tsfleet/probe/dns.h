#pragma once
// A minimal DNS client for the MagicDNS probe: A and AAAA queries over UDP to a chosen server
// (100.100.100.100 by default, any address:port for tests), and the parser for answers.
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet::probe {

inline constexpr std::string_view kMagicDnsAddress = "100.100.100.100";

// A standard query (RD set) for `name` (with or without the trailing dot) of `qtype`
// (1 = A, 28 = AAAA). Throws Error(usage) for a name that is not a valid DNS name.
std::vector<std::uint8_t> build_dns_query(std::uint16_t id, std::string_view name,
                                          std::uint16_t qtype = 1);

struct DnsMessage {
  std::uint16_t id = 0;
  bool response = false;               // QR bit
  bool truncated = false;              // TC bit
  int rcode = 0;                       // 0 NOERROR, 2 SERVFAIL, 3 NXDOMAIN, ...
  std::vector<std::string> questions;  // names, lower-case, without the trailing dot
  std::vector<std::string> a;          // IPv4 answers (dotted quad)
  std::vector<std::string> aaaa;       // IPv6 answers
  std::vector<std::string> cnames;     // CNAME targets seen
};

// Parses a DNS message (query or response). Malformed input (truncated, bad labels, compression
// loops) gives nullopt; never reads outside `bytes`.
std::optional<DnsMessage> parse_dns_message(std::span<const std::uint8_t> bytes);

std::string_view rcode_name(int rcode) noexcept;  // "NOERROR", "NXDOMAIN", ...

// Where to ask: an IPv4 address and port, or the system resolver (getaddrinfo).
struct DnsServer {
  bool system = false;
  std::string address{kMagicDnsAddress};
  std::uint16_t port = 53;
  std::string to_string() const;  // "100.100.100.100:53" | "the system resolver"
};
// "ADDR", "ADDR:PORT" or "system". Throws Error(usage) otherwise.
DnsServer parse_dns_server(std::string_view text);

struct Resolution {
  enum class Status { ok, nxdomain, no_answer, server_error, timeout, error };
  Status status = Status::error;
  std::vector<std::string> addresses;  // IPv4 (A) or IPv6 (AAAA), as asked
  std::string message;                 // what went wrong, for the result text
};

// Resolves the IPv4 (A) or, with `ipv6`, the IPv6 (AAAA) addresses of `name`. With a server
// address: one query, one retry, within `timeout` in total. With the system resolver:
// getaddrinfo (its own timeouts apply).
Resolution resolve_addresses(std::string_view name, const DnsServer& server,
                             std::chrono::milliseconds timeout, bool ipv6 = false);

}  // namespace tsfleet::probe
