#include "tsfleet/probe/icmp.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <vector>

#include "socket_address.h"
#include "tsfleet/error.h"

namespace tsfleet::probe {

namespace {

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>((p[0] << 8) | p[1]); }

std::string dotted(const std::uint8_t* p) {
  return fmt::format("{}.{}.{}.{}", p[0], p[1], p[2], p[3]);
}

using Clock = std::chrono::steady_clock;

}  // namespace

std::uint16_t internet_checksum(std::span<const std::uint8_t> bytes) {
  std::uint32_t sum = 0;
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2)
    sum += static_cast<std::uint32_t>((bytes[i] << 8) | bytes[i + 1]);
  if (i < bytes.size()) sum += static_cast<std::uint32_t>(bytes[i] << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

std::optional<IcmpPacket> parse_icmp_packet(std::span<const std::uint8_t> bytes,
                                            bool with_ip_header) {
  IcmpPacket p;
  std::span<const std::uint8_t> icmp = bytes;
  if (with_ip_header) {
    if (bytes.size() < 20) return std::nullopt;
    if ((bytes[0] >> 4) != 4) return std::nullopt;
    std::size_t ihl = static_cast<std::size_t>(bytes[0] & 0x0f) * 4;
    if (ihl < 20 || ihl > bytes.size()) return std::nullopt;
    if (bytes[9] != IPPROTO_ICMP) return std::nullopt;
    p.ip_total_length = be16(&bytes[2]);
    p.source = dotted(&bytes[12]);
    icmp = bytes.subspan(ihl);
  }
  if (icmp.size() < 8) return std::nullopt;
  p.type = icmp[0];
  p.code = icmp[1];
  p.checksum_ok = internet_checksum(icmp) == 0;
  p.payload_size = icmp.size() - 8;
  if (p.type == 0 || p.type == 8) {
    p.id = be16(&icmp[4]);
    p.seq = be16(&icmp[6]);
    return p;
  }
  if (p.type == 3 || p.type == 11) {
    if (p.type == 3 && p.code == 4) p.next_hop_mtu = be16(&icmp[6]);
    auto inner = icmp.subspan(8);
    if (inner.size() >= 20 && (inner[0] >> 4) == 4) {
      std::size_t ihl = static_cast<std::size_t>(inner[0] & 0x0f) * 4;
      if (ihl >= 20 && ihl <= inner.size()) {
        p.has_embedded = true;
        p.embedded_protocol = inner[9];
        p.embedded_destination = dotted(&inner[16]);
        if (p.embedded_protocol == IPPROTO_ICMP && inner.size() >= ihl + 8) {
          p.id = be16(&inner[ihl + 4]);
          p.seq = be16(&inner[ihl + 6]);
        }
      }
    }
  }
  return p;
}

std::optional<IcmpPacket> parse_icmp6_packet(std::span<const std::uint8_t> icmp) {
  if (icmp.size() < 8) return std::nullopt;
  IcmpPacket p;
  p.type = icmp[0];
  p.code = icmp[1];
  p.payload_size = icmp.size() - 8;
  if (p.type == 128 || p.type == 129) {
    p.id = be16(&icmp[4]);
    p.seq = be16(&icmp[6]);
    return p;
  }
  if (p.type == 1 || p.type == 2 || p.type == 3) {
    if (p.type == 2) {
      std::uint32_t mtu = std::uint32_t{icmp[4]} << 24 | std::uint32_t{icmp[5]} << 16 |
                          std::uint32_t{icmp[6]} << 8 | icmp[7];
      p.next_hop_mtu = static_cast<std::uint16_t>(std::min<std::uint32_t>(mtu, 65535));
    }
    auto inner = icmp.subspan(8);
    if (inner.size() >= 40 && (inner[0] >> 4) == 6) {
      char text[INET6_ADDRSTRLEN] = {};
      if (::inet_ntop(AF_INET6, &inner[24], text, sizeof text)) {
        p.has_embedded = true;
        p.embedded_protocol = inner[6];  // the first next header (no extension headers followed)
        p.embedded_destination = text;
        if (p.embedded_protocol == IPPROTO_ICMPV6 && inner.size() >= 48 && inner[40] == 128) {
          p.id = be16(&inner[44]);
          p.seq = be16(&inner[46]);
        }
      }
    }
  }
  return p;
}

std::string_view to_string(IcmpSocketKind k) noexcept {
  return k == IcmpSocketKind::datagram ? "datagram" : "raw";
}

std::string_view to_string(EchoOutcome::Status s) noexcept {
  switch (s) {
    case EchoOutcome::Status::reply:
      return "reply";
    case EchoOutcome::Status::timeout:
      return "timeout";
    case EchoOutcome::Status::too_big:
      return "too big";
    case EchoOutcome::Status::unreachable:
      return "unreachable";
    case EchoOutcome::Status::error:
      return "error";
  }
  return "error";
}

IcmpPinger::IcmpPinger(bool ipv6) : ipv6_(ipv6) {
  std::random_device rd;
  id_ = static_cast<std::uint16_t>(rd());
  seq_ = static_cast<std::uint16_t>(rd());
  const int family = ipv6 ? AF_INET6 : AF_INET;
  const int proto = ipv6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP};
  const char* name = ipv6 ? "ICMPv6" : "ICMP";
  fd_ = ::socket(family, SOCK_DGRAM | SOCK_CLOEXEC, proto);
  if (fd_ >= 0) {
    kind_ = IcmpSocketKind::datagram;
    why_ = fmt::format("{} datagram socket (net.ipv4.ping_group_range allows gid {})", name,
                       ::getegid());
    int on = 1;
    if (ipv6)
      ::setsockopt(fd_, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
    else
      ::setsockopt(fd_, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
    return;
  }
  int dgram_errno = errno;
  std::string range;
  {
    std::ifstream f("/proc/sys/net/ipv4/ping_group_range");
    std::getline(f, range);
    for (auto& c : range)
      if (c == '\t') c = ' ';
  }
  fd_ = ::socket(family, SOCK_RAW | SOCK_CLOEXEC, proto);
  if (fd_ < 0) {
    int raw_errno = errno;
    throw Error(
        ErrorCategory::io,
        fmt::format(
            "cannot open an {} socket: datagram socket refused ({}; net.ipv4.ping_group_range is "
            "\"{}\", gid {} not in it) and raw socket refused ({}): run as root, give tsfleet "
            "CAP_NET_RAW, or set boot.kernel.sysctl.\"net.ipv4.ping_group_range\" = \"0 "
            "2147483647\"",
            name, std::strerror(dgram_errno), range, ::getegid(), std::strerror(raw_errno)));
  }
  kind_ = IcmpSocketKind::raw;
  why_ = fmt::format(
      "raw {} socket (datagram sockets refused: net.ipv4.ping_group_range is \"{}\"; raw needs "
      "root or CAP_NET_RAW)",
      name, range);
}

IcmpPinger::~IcmpPinger() {
  if (fd_ >= 0) ::close(fd_);
}

EchoOutcome IcmpPinger::echo(const std::string& address, std::size_t packet_size,
                             bool dont_fragment, std::chrono::milliseconds timeout) {
  EchoOutcome out;
  auto dst = socket_address(address, 0);
  if (!dst || dst->ipv6() != ipv6_) {
    out.status = EchoOutcome::Status::error;
    out.message = fmt::format("not an {} address: {}", ipv6_ ? "IPv6" : "IPv4", address);
    return out;
  }
  const std::size_t ip_header = ipv6_ ? 40 : 20;
  if (packet_size < ip_header + 8) packet_size = ip_header + 8;
  if (packet_size > 65535) packet_size = 65535;
  if (ipv6_) {
    int pmtu = dont_fragment ? IPV6_PMTUDISC_PROBE : IPV6_PMTUDISC_DONT;
    int df = dont_fragment ? 1 : 0;
    ::setsockopt(fd_, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &pmtu, sizeof pmtu);
    ::setsockopt(fd_, IPPROTO_IPV6, IPV6_DONTFRAG, &df, sizeof df);
  } else {
    int pmtu = dont_fragment ? IP_PMTUDISC_PROBE : IP_PMTUDISC_DONT;
    ::setsockopt(fd_, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
  }

  const std::uint16_t seq = ++seq_;
  const std::uint8_t echo_request = ipv6_ ? 128 : 8, echo_reply = ipv6_ ? 129 : 0;
  std::vector<std::uint8_t> pkt(packet_size - ip_header, 0);
  pkt[0] = echo_request;
  pkt[4] = static_cast<std::uint8_t>(id_ >> 8);
  pkt[5] = static_cast<std::uint8_t>(id_);
  pkt[6] = static_cast<std::uint8_t>(seq >> 8);
  pkt[7] = static_cast<std::uint8_t>(seq);
  for (std::size_t i = 8; i < pkt.size(); ++i) pkt[i] = static_cast<std::uint8_t>(i);
  if (!ipv6_) {  // the kernel computes the ICMPv6 checksum (it covers the pseudo-header)
    std::uint16_t sum = internet_checksum(pkt);
    pkt[2] = static_cast<std::uint8_t>(sum >> 8);
    pkt[3] = static_cast<std::uint8_t>(sum);
  }

  auto start = Clock::now();
  if (::sendto(fd_, pkt.data(), pkt.size(), 0, dst->get(), dst->len) < 0) {
    int e = errno;
    if (e == EMSGSIZE) {
      out.status = EchoOutcome::Status::too_big;
      out.message = fmt::format(
          "{} bytes refused locally with DF set (EMSGSIZE: larger than the route's MTU)",
          packet_size);
    } else if (e == EHOSTUNREACH || e == ENETUNREACH) {
      out.status = EchoOutcome::Status::unreachable;
      out.message = fmt::format("no route to {} ({})", address, std::strerror(e));
    } else {
      out.status = EchoOutcome::Status::error;
      out.message = fmt::format("sending an echo to {} failed: {}", address, std::strerror(e));
    }
    return out;
  }
  auto deadline = start + timeout;
  std::uint8_t buf[70000];
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{fd_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    if (kind_ == IcmpSocketKind::datagram && (p.revents & POLLERR)) {
      // An ICMP error for our socket (IP_RECVERR / IPV6_RECVERR).
      char cbuf[512];
      std::uint8_t data[600];
      iovec iov{data, sizeof data};
      msghdr msg{};
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = cbuf;
      msg.msg_controllen = sizeof cbuf;
      if (::recvmsg(fd_, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) >= 0) {
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
          bool ours = ipv6_ ? (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)
                            : (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR);
          if (!ours) continue;
          sock_extended_err ee;
          std::memcpy(&ee, CMSG_DATA(c), sizeof ee);
          bool frag_needed = ipv6_ ? (ee.ee_origin == SO_EE_ORIGIN_ICMP6 && ee.ee_type == 2)
                                   : (ee.ee_origin == SO_EE_ORIGIN_ICMP && ee.ee_type == 3 &&
                                      ee.ee_code == 4);
          if (frag_needed) {
            out.status = EchoOutcome::Status::too_big;
            out.mtu_hint = static_cast<std::uint16_t>(std::min<std::uint32_t>(ee.ee_info, 65535));
            out.message = fmt::format("{} (next-hop MTU {})",
                                      ipv6_ ? "packet too big" : "fragmentation needed",
                                      ee.ee_info);
          } else if (ee.ee_origin == SO_EE_ORIGIN_LOCAL && ee.ee_errno == EMSGSIZE) {
            out.status = EchoOutcome::Status::too_big;
            out.mtu_hint = static_cast<std::uint16_t>(std::min<std::uint32_t>(ee.ee_info, 65535));
            out.message = fmt::format("{} bytes exceed the path MTU {}", packet_size, ee.ee_info);
          } else {
            out.status = EchoOutcome::Status::unreachable;
            out.message = fmt::format("{} error from the path (type {} code {}: {})",
                                      ipv6_ ? "ICMPv6" : "ICMP", ee.ee_type, ee.ee_code,
                                      std::strerror(static_cast<int>(ee.ee_errno)));
          }
          return out;
        }
      }
      continue;
    }
    sockaddr_storage from{};
    socklen_t fl = sizeof from;
    ssize_t r =
        ::recvfrom(fd_, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &fl);
    if (r < 0) continue;
    std::span<const std::uint8_t> got{buf, static_cast<std::size_t>(r)};
    auto parsed = ipv6_ ? parse_icmp6_packet(got)
                        : parse_icmp_packet(got, kind_ == IcmpSocketKind::raw);
    if (!parsed) continue;
    if (parsed->type == echo_reply && dst->same_host(from) && parsed->seq == seq &&
        (kind_ == IcmpSocketKind::datagram || parsed->id == id_)) {
      out.status = EchoOutcome::Status::reply;
      out.rtt_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      out.message = fmt::format("reply from {} in {:.2f} ms", address, out.rtt_ms);
      return out;
    }
    if (kind_ != IcmpSocketKind::raw || !parsed->has_embedded ||
        parsed->embedded_destination != address || parsed->id != id_ || parsed->seq != seq)
      continue;
    char from_text[INET6_ADDRSTRLEN] = {};
    const void* from_addr =
        ipv6_ ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6&>(from).sin6_addr)
              : static_cast<const void*>(&reinterpret_cast<sockaddr_in&>(from).sin_addr);
    ::inet_ntop(ipv6_ ? AF_INET6 : AF_INET, from_addr, from_text, sizeof from_text);
    const bool too_big = ipv6_ ? parsed->type == 2 : (parsed->type == 3 && parsed->code == 4);
    if (too_big) {
      out.status = EchoOutcome::Status::too_big;
      out.mtu_hint = parsed->next_hop_mtu;
      out.message = fmt::format("{} from {} (next-hop MTU {})",
                                ipv6_ ? "packet too big" : "fragmentation needed", from_text,
                                parsed->next_hop_mtu);
      return out;
    }
    const bool unreachable = ipv6_ ? parsed->type == 1 : parsed->type == 3;
    const bool exceeded = ipv6_ ? parsed->type == 3 : parsed->type == 11;
    if (unreachable || exceeded) {
      out.status = EchoOutcome::Status::unreachable;
      out.message = fmt::format("{} {} (code {}) from {}", ipv6_ ? "ICMPv6" : "ICMP",
                                unreachable ? "destination unreachable" : "time exceeded",
                                parsed->code, from_text);
      return out;
    }
  }
  out.status = EchoOutcome::Status::timeout;
  out.message = fmt::format("no echo reply from {} within {} ms ({} bytes{})", address,
                            timeout.count(), packet_size, dont_fragment ? ", DF" : "");
  return out;
}

}  // namespace tsfleet::probe
