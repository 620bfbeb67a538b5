#include "tsfleet/probe/dns.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <random>

#include "tsfleet/error.h"

namespace tsfleet::probe {

namespace {

using Clock = std::chrono::steady_clock;

std::uint16_t be16(std::span<const std::uint8_t> b, std::size_t at) {
  return static_cast<std::uint16_t>((b[at] << 8) | b[at + 1]);
}

// Reads a (possibly compressed) name starting at `pos`; advances `pos` past it in the message.
bool read_name(std::span<const std::uint8_t> msg, std::size_t& pos, std::string& out) {
  out.clear();
  std::size_t p = pos;
  bool jumped = false;
  int jumps = 0;
  std::size_t total = 0;
  for (;;) {
    if (p >= msg.size()) return false;
    std::uint8_t len = msg[p];
    if ((len & 0xc0) == 0xc0) {
      if (p + 1 >= msg.size()) return false;
      std::size_t target = static_cast<std::size_t>(((len & 0x3f) << 8) | msg[p + 1]);
      if (!jumped) pos = p + 2;
      jumped = true;
      if (++jumps > 64 || target >= msg.size()) return false;
      p = target;
      continue;
    }
    if ((len & 0xc0) != 0) return false;  // 0x40 / 0x80 label types are obsolete
    if (len == 0) {
      if (!jumped) pos = p + 1;
      return true;
    }
    if (p + 1 + len > msg.size()) return false;
    total += len + 1u;
    if (total > 255) return false;
    if (!out.empty()) out += '.';
    for (std::size_t i = 0; i < len; ++i)
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(msg[p + 1 + i])));
    p += 1 + len;
  }
}

}  // namespace

std::vector<std::uint8_t> build_dns_query(std::uint16_t id, std::string_view name,
                                          std::uint16_t qtype) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  if (name.empty() || name.size() > 253)
    throw Error(ErrorCategory::usage, fmt::format("not a DNS name: \"{}\"", name));
  std::vector<std::uint8_t> q = {static_cast<std::uint8_t>(id >> 8),
                                 static_cast<std::uint8_t>(id),
                                 0x01,
                                 0x00,
                                 0,
                                 1,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0,
                                 0};
  std::size_t start = 0;
  while (start <= name.size()) {
    std::size_t dot = name.find('.', start);
    std::string_view label =
        name.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (label.empty() || label.size() > 63)
      throw Error(ErrorCategory::usage,
                  fmt::format("not a DNS name: \"{}\" (empty or too long label)", name));
    q.push_back(static_cast<std::uint8_t>(label.size()));
    q.insert(q.end(), label.begin(), label.end());
    if (dot == std::string_view::npos) break;
    start = dot + 1;
  }
  q.push_back(0);
  q.push_back(static_cast<std::uint8_t>(qtype >> 8));
  q.push_back(static_cast<std::uint8_t>(qtype));
  q.push_back(0);
  q.push_back(1);  // IN
  return q;
}

std::optional<DnsMessage> parse_dns_message(std::span<const std::uint8_t> b) {
  if (b.size() < 12) return std::nullopt;
  DnsMessage m;
  m.id = be16(b, 0);
  std::uint16_t flags = be16(b, 2);
  m.response = flags & 0x8000;
  m.truncated = flags & 0x0200;
  m.rcode = flags & 0x000f;
  std::size_t qd = be16(b, 4), an = be16(b, 6);
  std::size_t pos = 12;
  std::string name;
  for (std::size_t i = 0; i < qd; ++i) {
    if (!read_name(b, pos, name) || pos + 4 > b.size()) return std::nullopt;
    pos += 4;
    m.questions.push_back(name);
  }
  for (std::size_t i = 0; i < an; ++i) {
    if (!read_name(b, pos, name) || pos + 10 > b.size()) return std::nullopt;
    std::uint16_t type = be16(b, pos), cls = be16(b, pos + 2);
    std::size_t rdlen = be16(b, pos + 8);
    pos += 10;
    if (pos + rdlen > b.size()) return std::nullopt;
    auto rdata = b.subspan(pos, rdlen);
    if (cls == 1 && type == 1 && rdlen == 4) {
      m.a.push_back(fmt::format("{}.{}.{}.{}", rdata[0], rdata[1], rdata[2], rdata[3]));
    } else if (cls == 1 && type == 28 && rdlen == 16) {
      char text[INET6_ADDRSTRLEN];
      if (::inet_ntop(AF_INET6, rdata.data(), text, sizeof text)) m.aaaa.emplace_back(text);
    } else if (type == 5) {
      std::size_t p = pos;
      std::string target;
      if (!read_name(b, p, target)) return std::nullopt;
      m.cnames.push_back(target);
    }
    pos += rdlen;
  }
  return m;
}

std::string_view rcode_name(int rcode) noexcept {
  switch (rcode) {
    case 0:
      return "NOERROR";
    case 1:
      return "FORMERR";
    case 2:
      return "SERVFAIL";
    case 3:
      return "NXDOMAIN";
    case 4:
      return "NOTIMP";
    case 5:
      return "REFUSED";
    default:
      return "RCODE";
  }
}

std::string DnsServer::to_string() const {
  if (system) return "the system resolver";
  return fmt::format("{}:{}", address, port);
}

DnsServer parse_dns_server(std::string_view text) {
  DnsServer s;
  if (text == "system") {
    s.system = true;
    return s;
  }
  std::string_view addr = text;
  std::size_t colon = text.rfind(':');
  if (colon != std::string_view::npos) {
    addr = text.substr(0, colon);
    std::string_view port = text.substr(colon + 1);
    unsigned v = 0;
    auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
    if (ec != std::errc{} || p != port.data() + port.size() || v == 0 || v > 65535)
      throw Error(ErrorCategory::usage,
                  fmt::format("--dns-server {}: the port must be 1-65535", text));
    s.port = static_cast<std::uint16_t>(v);
  }
  in_addr a{};
  if (::inet_pton(AF_INET, std::string(addr).c_str(), &a) != 1)
    throw Error(
        ErrorCategory::usage,
        fmt::format(
            "--dns-server {}: want an IPv4 address, ADDR:PORT or \"system\" (e.g. 100.100.100.100)",
            text));
  s.address = std::string(addr);
  return s;
}

Resolution resolve_addresses(std::string_view name, const DnsServer& server,
                             std::chrono::milliseconds timeout, bool ipv6) {
  const int family = ipv6 ? AF_INET6 : AF_INET;
  const char* rr = ipv6 ? "AAAA" : "A";
  Resolution res;
  std::string host(name);
  if (!host.empty() && host.back() == '.') host.pop_back();
  if (server.system) {
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* list = nullptr;
    int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &list);
    if (rc != 0) {
      res.status = (rc == EAI_NONAME)  ? Resolution::Status::nxdomain
                   : (rc == EAI_AGAIN) ? Resolution::Status::timeout
                                       : Resolution::Status::error;
      res.message = fmt::format("the system resolver: {}", ::gai_strerror(rc));
      return res;
    }
    for (addrinfo* i = list; i; i = i->ai_next) {
      char text[INET6_ADDRSTRLEN];
      const void* addr =
          ipv6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(i->ai_addr)->sin6_addr)
               : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(i->ai_addr)->sin_addr);
      if (::inet_ntop(family, addr, text, sizeof text)) {
        std::string t(text);
        if (std::find(res.addresses.begin(), res.addresses.end(), t) == res.addresses.end())
          res.addresses.push_back(t);
      }
    }
    ::freeaddrinfo(list);
    res.status = res.addresses.empty() ? Resolution::Status::no_answer : Resolution::Status::ok;
    return res;
  }

  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(server.port);
  if (::inet_pton(AF_INET, server.address.c_str(), &dst.sin_addr) != 1) {
    res.message = fmt::format("not an IPv4 address: {}", server.address);
    return res;
  }
  int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    res.message = fmt::format("cannot open a UDP socket: {}", std::strerror(errno));
    return res;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  if (::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    res.status = Resolution::Status::error;
    res.message = fmt::format("cannot reach {}: {}", server.to_string(), std::strerror(errno));
    return res;
  }
  std::random_device rd;
  const auto deadline = Clock::now() + timeout;
  const auto per_try = timeout / 2;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::uint16_t id = static_cast<std::uint16_t>(rd());
    std::vector<std::uint8_t> q;
    try {
      q = build_dns_query(id, host, ipv6 ? 28 : 1);
    } catch (const Error& e) {
      res.message = e.what();
      return res;
    }
    if (::send(fd, q.data(), q.size(), 0) < 0) {
      res.status = Resolution::Status::error;
      res.message = fmt::format("sending the query to {} failed: {}", server.to_string(),
                                std::strerror(errno));
      return res;
    }
    auto try_deadline = attempt == 0 ? std::min(deadline, Clock::now() + per_try) : deadline;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(try_deadline - Clock::now())
                      .count();
      if (left <= 0) break;
      pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, static_cast<int>(left));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      std::uint8_t buf[4096];
      ssize_t r = ::recv(fd, buf, sizeof buf, 0);
      if (r < 0) {
        if (errno == ECONNREFUSED) {
          res.status = Resolution::Status::server_error;
          res.message =
              fmt::format("{} refused the query (nothing listens on the port)", server.to_string());
          return res;
        }
        continue;
      }
      auto m = parse_dns_message({buf, static_cast<std::size_t>(r)});
      if (!m || !m->response || m->id != id) continue;  // not our answer
      if (m->rcode == 3) {
        res.status = Resolution::Status::nxdomain;
        res.message = fmt::format("{} answered NXDOMAIN for {}", server.to_string(), host);
      } else if (m->rcode != 0) {
        res.status = Resolution::Status::server_error;
        res.message =
            fmt::format("{} answered {} for {}", server.to_string(), rcode_name(m->rcode), host);
      } else {
        res.addresses = ipv6 ? m->aaaa : m->a;
        res.status =
            res.addresses.empty() ? Resolution::Status::no_answer : Resolution::Status::ok;
        if (res.addresses.empty())
          res.message = fmt::format("{} gave no {} record for {}", server.to_string(), rr, host);
      }
      return res;
    }
  }
  res.status = Resolution::Status::timeout;
  res.message = fmt::format("no answer from {} within {} ms", server.to_string(), timeout.count());
  return res;
}

}  // namespace tsfleet::probe
