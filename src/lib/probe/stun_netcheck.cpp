// netcheck without the tailscale CLI: STUN Binding requests to the DERP map's STUN servers.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <limits>
#include <map>
#include <set>

#include "socket_address.h"
#include "tsfleet/error.h"
#include "tsfleet/probe/netcheck.h"

namespace tsfleet::probe {

namespace {

using Clock = std::chrono::steady_clock;

// `text` is an address literal of `family`.
bool is_literal(const std::string& text, int family) {
  auto a = socket_address(text, 0);
  return a && a->ipv6() == (family == AF_INET6);
}

std::vector<std::string> resolve(const std::string& host, int family) {
  std::vector<std::string> out;
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* res = nullptr;
  if (::getaddrinfo(host.c_str(), nullptr, &hints, &res) != 0) return out;
  for (addrinfo* a = res; a; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* src = family == AF_INET
                          ? static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(a->ai_addr)->sin_addr)
                          : static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(a->ai_addr)->sin6_addr);
    if (::inet_ntop(family, src, text, sizeof text)) {
      out.emplace_back(text);
      break;  // the first address, like a dial would use
    }
  }
  ::freeaddrinfo(res);
  return out;
}

class UdpSocket {
 public:
  explicit UdpSocket(int family) {
    fd_ = ::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) {
      error_ = std::strerror(errno);
      return;
    }
    if (family == AF_INET6) {
      int on = 1;
      ::setsockopt(fd_, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    }
  }
  ~UdpSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  UdpSocket(const UdpSocket&) = delete;
  UdpSocket& operator=(const UdpSocket&) = delete;
  int fd() const { return fd_; }
  const std::string& error() const { return error_; }

  // sendto; "" on success, else the error text.
  std::string send(const StunTarget& t, const std::vector<std::uint8_t>& msg) const {
    auto to = socket_address(t.ip, t.port);
    if (!to) return "not an address: " + t.ip;
    if (::sendto(fd_, msg.data(), msg.size(), 0, to->get(), to->len) < 0)
      return std::strerror(errno);
    return {};
  }

 private:
  int fd_ = -1;
  std::string error_;
};

struct Probe {
  const StunTarget* target = nullptr;
  int sent = 0;
  std::string send_error;
  std::optional<stun::MappedAddress> mapped;
  double rtt_ms = 0;
};

struct Pending {
  std::size_t probe;
  Clock::time_point sent_at;
};

}  // namespace

std::string StunTarget::endpoint() const {
  return ipv6 ? fmt::format("[{}]:{}", ip, port) : fmt::format("{}:{}", ip, port);
}

std::vector<StunTarget> stun_targets(const localapi::DerpMap& map, bool resolve_names) {
  std::vector<const localapi::DerpRegion*> regions;
  for (const auto& [key, region] : map.regions) regions.push_back(&region);
  std::sort(regions.begin(), regions.end(),
            [](const auto* a, const auto* b) { return a->region_id < b->region_id; });
  std::vector<StunTarget> out;
  for (const auto* region : regions) {
    int taken = 0;
    for (const auto& node : region->nodes) {
      if (taken == 2) break;
      if (node.stun_port < 0 || node.stun_port > 65535) continue;
      ++taken;
      StunTarget base;
      base.region_id = region->region_id ? region->region_id : node.region_id;
      base.region_code = region->region_code;
      base.node = node.name;
      base.port = node.stun_port ? static_cast<std::uint16_t>(node.stun_port) : stun::kDefaultPort;
      auto add = [&](const std::string& ip, bool v6) {
        StunTarget t = base;
        t.ip = ip;
        t.ipv6 = v6;
        out.push_back(std::move(t));
      };
      if (!node.stun_test_ip.empty()) {
        if (is_literal(node.stun_test_ip, AF_INET)) add(node.stun_test_ip, false);
        else if (is_literal(node.stun_test_ip, AF_INET6)) add(node.stun_test_ip, true);
        continue;
      }
      for (int family : {AF_INET, AF_INET6}) {
        const std::string& forced = family == AF_INET ? node.ipv4 : node.ipv6;
        if (!forced.empty()) {
          // Not an address of that family (tailscale's convention is "none"): family not used.
          if (is_literal(forced, family)) add(forced, family == AF_INET6);
          continue;
        }
        if (resolve_names && !node.host_name.empty())
          for (const auto& ip : resolve(node.host_name, family)) add(ip, family == AF_INET6);
      }
    }
  }
  return out;
}

NetcheckReport stun_netcheck(const std::vector<StunTarget>& targets, const StunOptions& options) {
  NetcheckReport report;
  report.method = "STUN";
  UdpSocket sock4(AF_INET), sock6(AF_INET6);
  if (sock4.fd() < 0 && sock6.fd() < 0)
    throw Error(ErrorCategory::io,
                fmt::format("cannot open a UDP socket for STUN: {}", sock4.error()));

  std::vector<Probe> probes(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) probes[i].target = &targets[i];
  std::map<stun::TxId, Pending> pending;
  const auto start = Clock::now();
  const auto deadline = start + options.timeout;
  const int attempts = std::max(1, options.attempts);
  const auto retransmit = std::max(options.retransmit, std::chrono::milliseconds(1));
  int round = 0;
  auto next_round = start;
  std::uint8_t buf[2048];

  // Every server answered or cannot be sent to: nothing more to wait for.
  auto settled = [&] {
    return std::all_of(probes.begin(), probes.end(),
                       [](const Probe& p) { return p.mapped || !p.send_error.empty(); });
  };

  for (;;) {
    auto now = Clock::now();
    if (round < attempts && now >= next_round) {
      for (auto& p : probes) {
        if (p.mapped || !p.send_error.empty()) continue;
        const UdpSocket& s = p.target->ipv6 ? sock6 : sock4;
        if (s.fd() < 0) {
          p.send_error = "no socket: " + s.error();
          continue;
        }
        auto txid = stun::random_txid();
        std::string err = s.send(*p.target, stun::binding_request(txid));
        ++p.sent;
        if (err.empty()) {
          pending[txid] = {static_cast<std::size_t>(&p - probes.data()), Clock::now()};
          if (!p.target->ipv6) report.ipv4_can_send = true;
        } else {
          p.send_error = err;
        }
      }
      ++round;
      next_round = start + retransmit * round;
    }
    if (now >= deadline || settled()) break;

    auto until = round < attempts ? std::min(next_round, deadline) : deadline;
    auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(until - now).count();
    pollfd fds[2];
    nfds_t n = 0;
    if (sock4.fd() >= 0) fds[n++] = {sock4.fd(), POLLIN, 0};
    if (sock6.fd() >= 0) fds[n++] = {sock6.fd(), POLLIN, 0};
    int rc = ::poll(fds, n, static_cast<int>(std::clamp<long long>(wait, 0, 60'000)) + 1);
    if (rc < 0 && errno != EINTR) break;
    for (nfds_t k = 0; k < n; ++k) {
      if (!(fds[k].revents & POLLIN)) continue;
      for (;;) {
        ssize_t got = ::recv(fds[k].fd, buf, sizeof buf, 0);
        if (got < 0) break;  // EAGAIN, or an ICMP error queued on the socket
        auto resp = stun::parse_response({buf, static_cast<std::size_t>(got)});
        if (!resp) continue;
        auto it = pending.find(resp->txid);
        if (it == pending.end()) continue;
        Probe& p = probes[it->second.probe];
        double rtt =
            std::chrono::duration<double, std::milli>(Clock::now() - it->second.sent_at).count();
        pending.erase(it);
        if (!resp->success || !resp->mapped) {
          p.send_error = fmt::format("error response {}", resp->error_code);
          continue;
        }
        if (!p.mapped || rtt < p.rtt_ms) {
          p.mapped = resp->mapped;
          p.rtt_ms = rtt;
        }
      }
    }
  }

  // The report, as tailscale's netcheck makes it from the same answers.
  std::map<bool, std::map<std::string, std::string>> seen;  // family -> server ip -> endpoint
  const Probe* best4 = nullptr;
  const Probe* best6 = nullptr;
  for (const auto& p : probes) {
    const StunTarget& t = *p.target;
    if (!p.mapped) {
      report.notes.push_back(fmt::format(
          "STUN {} (region {} {}): {}", t.endpoint(), t.region_id, t.region_code,
          !p.send_error.empty() ? "cannot send: " + p.send_error
                                : fmt::format("no answer to {} requests", p.sent)));
      continue;
    }
    report.notes.push_back(fmt::format("STUN {} (region {} {}): sees us at {} in {:.1f} ms",
                                       t.endpoint(), t.region_id, t.region_code,
                                       p.mapped->endpoint(), p.rtt_ms));
    report.udp = true;
    (t.ipv6 ? report.ipv6 : report.ipv4) = true;
    const Probe*& best = t.ipv6 ? best6 : best4;
    if (!best || p.rtt_ms < best->rtt_ms) best = &p;
    seen[t.ipv6].emplace(t.ip, p.mapped->endpoint());
    std::string region = std::to_string(t.region_id);
    auto it = report.region_latency_ms.find(region);
    if (it == report.region_latency_ms.end() || p.rtt_ms < it->second)
      report.region_latency_ms[region] = p.rtt_ms;
  }
  if (best4) report.global_v4 = best4->mapped->endpoint();
  if (best6) report.global_v6 = best6->mapped->endpoint();
  for (const auto& [v6, by_server] : seen) {
    if (by_server.size() < 2) continue;
    std::set<std::string> endpoints;
    for (const auto& [server, endpoint] : by_server) endpoints.insert(endpoint);
    bool varies = endpoints.size() > 1;
    report.mapping_varies_by_dest_ip = report.mapping_varies_by_dest_ip.value_or(false) || varies;
  }
  double best_latency = std::numeric_limits<double>::infinity();
  for (const auto& [region, ms] : report.region_latency_ms)
    if (ms < best_latency) {
      best_latency = ms;
      report.preferred_derp = std::stoll(region);
    }
  if (targets.empty()) report.notes.push_back("the DERP map has no STUN servers");
  return report;
}

}  // namespace tsfleet::probe
