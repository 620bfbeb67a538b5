#pragma once
// ICMP echo (ping) to IPv4 and IPv6 addresses (ICMPv6, RFC 4443), and the parsers for what comes
// back.
//
// Socket choice (docs/probes.md): an ICMP *datagram* socket (SOCK_DGRAM, IPPROTO_ICMP) when
// net.ipv4.ping_group_range includes our group: no privilege needed, the kernel fills in the echo
// id and hands us only our own replies. Otherwise a *raw* socket (SOCK_RAW, IPPROTO_ICMP), which
// needs root or CAP_NET_RAW and sees every ICMP packet, so replies are matched by id and sequence.
// The sysctl is per network namespace; its default is "1 0" (nobody), so as root the raw socket
// is the usual path.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace tsfleet::probe {

// One ICMPv4 message as received, with the fields the probes look at.
struct IcmpPacket {
  std::uint8_t type =
      0;  // 0 echo reply, 3 destination unreachable, 8 echo request, 11 time exceeded
  std::uint8_t code = 0;
  std::uint16_t id = 0, seq = 0;    // echo id and sequence (for errors: of the embedded echo)
  std::string source;               // sender (raw sockets only, from the IP header), dotted quad
  std::size_t ip_total_length = 0;  // raw sockets: the IP header's total length
  std::size_t payload_size = 0;     // bytes after the 8-byte ICMP header
  bool checksum_ok = false;
  // For type 3 / 11: the embedded original datagram.
  bool has_embedded = false;
  std::string embedded_destination;
  std::uint8_t embedded_protocol = 0;
  std::uint16_t next_hop_mtu = 0;  // type 3 code 4 (fragmentation needed)
};

// Parses an ICMPv4 message. `with_ip_header`: the bytes start with the IPv4 header (raw
// sockets); otherwise they start with the ICMP header (datagram sockets). Any bytes: malformed
// or truncated input gives nullopt, never a read past `bytes`.
std::optional<IcmpPacket> parse_icmp_packet(std::span<const std::uint8_t> bytes,
                                            bool with_ip_header);

// Parses an ICMPv6 message as an ICMPv6 socket (raw or datagram) hands it over: no IPv6 header.
// Echo reply 129 / request 128 give id and sequence; destination unreachable 1, packet too big 2
// (next_hop_mtu: its MTU, capped at 65535) and time exceeded 3 give the embedded IPv6 packet's
// destination and, when it was an echo, its id and sequence. `source` and `ip_total_length` stay
// empty; checksum_ok stays false (the checksum covers a pseudo-header the socket does not show;
// the kernel checks it). Any bytes: nullopt for malformed input, never a read past `bytes`.
std::optional<IcmpPacket> parse_icmp6_packet(std::span<const std::uint8_t> bytes);

// The Internet checksum (RFC 1071) of `bytes`.
std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes);

enum class IcmpSocketKind { datagram, raw };
std::string_view to_string(IcmpSocketKind k) noexcept;  // "datagram" | "raw"

struct EchoOutcome {
  enum class Status {
    reply,        // an echo reply came back
    timeout,      // nothing before the deadline (dropped: link down, filtered, MTU on the path)
    too_big,      // refused locally (EMSGSIZE: bigger than the interface/route MTU with DF) or
                  // ICMP fragmentation-needed from a hop
    unreachable,  // ICMP destination unreachable (or EHOSTUNREACH/ENETUNREACH from the kernel)
    error,        // any other socket error
  };
  Status status = Status::timeout;
  double rtt_ms = 0;
  std::uint16_t mtu_hint = 0;  // from fragmentation-needed or IP_MTU, when known
  std::string message;         // what happened, for the result text
};
std::string_view to_string(EchoOutcome::Status s) noexcept;

// An ICMP echo socket. Not thread-safe: one per probe.
class IcmpPinger {
 public:
  // Opens a datagram socket if the kernel allows it, else a raw socket, for IPv4 (ICMP) or IPv6
  // (ICMPv6; net.ipv4.ping_group_range governs both). Throws Error(io) naming both failures (and
  // what to do: root, CAP_NET_RAW or ping_group_range) when neither opens.
  explicit IcmpPinger(bool ipv6 = false);
  ~IcmpPinger();
  IcmpPinger(const IcmpPinger&) = delete;
  IcmpPinger& operator=(const IcmpPinger&) = delete;

  IcmpSocketKind kind() const { return kind_; }
  // Why this kind: e.g. "ICMP datagram socket (net.ipv4.ping_group_range allows gid 0)".
  const std::string& why() const { return why_; }

  bool ipv6() const { return ipv6_; }

  // Sends one echo request of `packet_size` bytes on the wire (IP header + ICMP header + payload;
  // at least 28 for IPv4, 48 for IPv6) to `address` (of the pinger's family) and waits for its
  // reply until `timeout`. With `dont_fragment`, DF is set (IPv6: IPV6_DONTFRAG) and the route's
  // cached path MTU is ignored (PMTUDISC_PROBE), so the size really crosses the path or fails.
  EchoOutcome echo(const std::string& address, std::size_t packet_size, bool dont_fragment,
                   std::chrono::milliseconds timeout);

 private:
  int fd_ = -1;
  bool ipv6_ = false;
  IcmpSocketKind kind_ = IcmpSocketKind::raw;
  std::string why_;
  std::uint16_t id_ = 0;
  std::uint16_t seq_ = 0;
};

}  // namespace tsfleet::probe
