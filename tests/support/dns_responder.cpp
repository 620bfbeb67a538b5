#include "support/dns_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "support/netns.h"

namespace tsfleet::testing {

namespace {
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}
}  // namespace

DnsResponder::DnsResponder(std::map<std::string, std::string> a_records, const Netns* ns,
                           const std::string& address, std::uint16_t port,
                           std::map<std::string, std::string> aaaa_records)
    : address_(address) {
  for (auto& [k, v] : a_records) records_[lower(k)] = v;
  for (auto& [k, v] : aaaa_records) aaaa_[lower(k)] = v;
  auto open = [&] {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0)
      throw std::runtime_error(std::string("dns responder: socket: ") + std::strerror(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    ::inet_pton(AF_INET, address.c_str(), &a.sin_addr);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      throw std::runtime_error("dns responder: bind " + address + ": " + std::strerror(errno));
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  };
  if (ns)
    ns->run_inside(open);
  else
    open();
  thread_ = std::thread([this] { loop(); });
}

DnsResponder::~DnsResponder() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

void DnsResponder::set(const std::string& name, const std::string& ipv4) {
  std::lock_guard lk(mu_);
  records_[lower(name)] = ipv4;
}

void DnsResponder::set_aaaa(const std::string& name, const std::string& ipv6) {
  std::lock_guard lk(mu_);
  aaaa_[lower(name)] = ipv6;
}

void DnsResponder::loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    std::uint8_t q[512];
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n < 12) continue;
    ++queries_;
    // One question, uncompressed labels (what resolvers send).
    std::size_t pos = 12;
    std::string name;
    bool ok = true;
    while (pos < static_cast<std::size_t>(n) && q[pos] != 0) {
      std::size_t len = q[pos];
      if (len > 63 || pos + 1 + len >= static_cast<std::size_t>(n)) {
        ok = false;
        break;
      }
      if (!name.empty()) name += '.';
      name.append(reinterpret_cast<const char*>(q + pos + 1), len);
      pos += 1 + len;
    }
    if (!ok || pos + 5 > static_cast<std::size_t>(n)) continue;
    std::size_t question_end = pos + 5;
    std::uint16_t qtype = static_cast<std::uint16_t>((q[pos + 1] << 8) | q[pos + 2]);
    std::string answer;
    bool known = false;
    {
      std::lock_guard lk(mu_);
      auto a4 = records_.find(lower(name));
      auto a6 = aaaa_.find(lower(name));
      known = a4 != records_.end() || a6 != aaaa_.end();
      if (qtype == 1 && a4 != records_.end()) answer = a4->second;
      if (qtype == 28 && a6 != aaaa_.end()) answer = a6->second;
    }
    std::vector<std::uint8_t> r(q, q + question_end);
    r[2] = 0x84 | (q[2] & 0x01);     // QR, AA, copy RD
    r[3] = known ? 0x00 : 0x03;      // NOERROR or NXDOMAIN
    r[4] = 0;
    r[5] = 1;
    r[6] = 0;
    r[7] = 0;
    r[8] = r[9] = r[10] = r[11] = 0;
    in_addr a{};
    if (!answer.empty() && qtype == 1 && ::inet_pton(AF_INET, answer.c_str(), &a) == 1) {
      r[7] = 1;
      const std::uint8_t rr[] = {0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4};
      r.insert(r.end(), rr, rr + sizeof rr);
      auto* b = reinterpret_cast<const std::uint8_t*>(&a.s_addr);
      r.insert(r.end(), b, b + 4);
    }
    in6_addr a6{};
    if (!answer.empty() && qtype == 28 && ::inet_pton(AF_INET6, answer.c_str(), &a6) == 1) {
      r[7] = 1;
      const std::uint8_t rr[] = {0xc0, 0x0c, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16};
      r.insert(r.end(), rr, rr + sizeof rr);
      r.insert(r.end(), a6.s6_addr, a6.s6_addr + 16);
    }
    ::sendto(fd_, r.data(), r.size(), 0, reinterpret_cast<sockaddr*>(&from), fl);
  }
}

}  // namespace tsfleet::testing
