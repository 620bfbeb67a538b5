#pragma once
// An IP address literal and a port as the sockets API wants them: one helper for the probes that
// send datagrams themselves (ICMP echo, STUN). Internal to the library.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>

namespace tsfleet::probe {

struct SocketAddress {
  sockaddr_storage ss{};
  socklen_t len = 0;
  bool ipv6() const { return ss.ss_family == AF_INET6; }
  const sockaddr* get() const { return reinterpret_cast<const sockaddr*>(&ss); }
  // Whether `from` (what recvfrom filled in) is this address (the port is not compared).
  bool same_host(const sockaddr_storage& from) const {
    if (from.ss_family != ss.ss_family) return false;
    if (!ipv6())
      return reinterpret_cast<const sockaddr_in&>(from).sin_addr.s_addr ==
             reinterpret_cast<const sockaddr_in&>(ss).sin_addr.s_addr;
    return std::memcmp(&reinterpret_cast<const sockaddr_in6&>(from).sin6_addr,
                       &reinterpret_cast<const sockaddr_in6&>(ss).sin6_addr, 16) == 0;
  }
};

// `ip` as an IPv4 or IPv6 literal with `port`; nullopt for anything else (names included).
inline std::optional<SocketAddress> socket_address(const std::string& ip, std::uint16_t port) {
  SocketAddress a;
  auto& v4 = reinterpret_cast<sockaddr_in&>(a.ss);
  auto& v6 = reinterpret_cast<sockaddr_in6&>(a.ss);
  if (::inet_pton(AF_INET, ip.c_str(), &v4.sin_addr) == 1) {
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    a.len = sizeof v4;
  } else if (::inet_pton(AF_INET6, ip.c_str(), &v6.sin6_addr) == 1) {
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons(port);
    a.len = sizeof v6;
  } else {
    return std::nullopt;
  }
  return a;
}

}  // namespace tsfleet::probe
