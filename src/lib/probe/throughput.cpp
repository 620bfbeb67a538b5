#include "tsfleet/probe/throughput.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include "tsfleet/error.h"

namespace tsfleet::probe {

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::size_t kChunk = 128 * 1024;  // iperf3's default TCP write size

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

void put_be64(std::uint8_t* p, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    p[i] = static_cast<std::uint8_t>(v);
    v >>= 8;
  }
}
std::uint64_t get_be64(const std::uint8_t* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

// Reads exactly n bytes before `deadline`; false on EOF, error or timeout.
bool read_exact(int fd, std::uint8_t* buf, std::size_t n, Clock::time_point deadline) {
  std::size_t got = 0;
  while (got < n) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    ssize_t k = ::recv(fd, buf + got, n - got, 0);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return false;
    got += static_cast<std::size_t>(k);
  }
  return true;
}

}  // namespace

ThroughputMeasurement measure_throughput(const std::string& host, std::uint16_t port,
                                         const ThroughputLimits& limits) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* list = nullptr;
  std::string port_text = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), port_text.c_str(), &hints, &list); rc != 0)
    throw Error(ErrorCategory::io,
                fmt::format("throughput probe: cannot resolve {}: {}", host, ::gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(list, ::freeaddrinfo);
  Fd s(::socket(list->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (s.fd < 0)
    throw Error(ErrorCategory::io,
                fmt::format("throughput probe: socket: {}", std::strerror(errno)));
  if (::connect(s.fd, list->ai_addr, list->ai_addrlen) != 0 && errno != EINPROGRESS)
    throw Error(ErrorCategory::io, fmt::format("throughput probe: cannot connect to {}:{}: {}",
                                               host, port, std::strerror(errno)));
  pollfd p{s.fd, POLLOUT, 0};
  int r = ::poll(&p, 1, static_cast<int>(limits.connect_timeout.count()));
  if (r == 0)
    throw Error(ErrorCategory::timeout,
                fmt::format("throughput probe: connecting to {}:{} took longer than {} ms", host,
                            port, limits.connect_timeout.count()));
  int err = 0;
  socklen_t len = sizeof err;
  ::getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
  if (r < 0 || err != 0)
    throw Error(
        ErrorCategory::io,
        fmt::format("throughput probe: cannot connect to {}:{}: {} (is `tsfleet probe-server` "
                    "running there?)",
                    host, port, std::strerror(err ? err : errno)));
  ::fcntl(s.fd, F_SETFL, ::fcntl(s.fd, F_GETFL) & ~O_NONBLOCK);
  timeval tv{1, 0};  // a stuck send must not outlive the duration by much
  ::setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);

  std::vector<std::uint8_t> chunk(kChunk);
  for (std::size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<std::uint8_t>(i * 31);
  if (::send(s.fd, kProbeHello.data(), kProbeHello.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(kProbeHello.size()))
    throw Error(ErrorCategory::io, fmt::format("throughput probe: sending to {}:{} failed: {}",
                                               host, port, std::strerror(errno)));
  const auto end = Clock::now() + limits.duration;
  std::uint64_t sent = 0;
  while (sent < limits.max_bytes) {
    if ((sent & ((8u << 20) - 1)) < kChunk && Clock::now() >= end)
      break;  // check the clock every ~8 MiB
    std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), limits.max_bytes - sent));
    ssize_t k = ::send(s.fd, chunk.data(), n, MSG_NOSIGNAL);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN && Clock::now() < end) continue;
      break;  // the server stopped reading (its cap), or the link broke: the answer tells
    }
    sent += static_cast<std::uint64_t>(k);
  }
  ::shutdown(s.fd, SHUT_WR);
  std::uint8_t answer[16];
  if (!read_exact(s.fd, answer, sizeof answer, Clock::now() + std::chrono::seconds(10)))
    throw Error(ErrorCategory::io,
                fmt::format("throughput probe: {}:{} sent no result after {} bytes (not a tsfleet "
                            "probe-server, or the link broke)",
                            host, port, sent));
  ThroughputMeasurement m;
  m.bytes = get_be64(answer);
  m.seconds = static_cast<double>(get_be64(answer + 8)) / 1e9;
  return m;
}

ProbeServer::ProbeServer(ProbeServerOptions options) : options_(std::move(options)) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
  addrinfo* list = nullptr;
  std::string port_text = std::to_string(options_.port);
  if (int rc = ::getaddrinfo(options_.listen.c_str(), port_text.c_str(), &hints, &list); rc != 0)
    throw Error(ErrorCategory::usage,
                fmt::format("probe-server: --listen {}: {}", options_.listen, ::gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> guard(list, ::freeaddrinfo);
  fd_ = ::socket(list->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int on = 1;
  ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (fd_ < 0 || ::bind(fd_, list->ai_addr, list->ai_addrlen) != 0 || ::listen(fd_, 4) != 0) {
    int e = errno;
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    throw Error(ErrorCategory::io, fmt::format("probe-server: cannot listen on {} port {}: {}",
                                               options_.listen, options_.port, std::strerror(e)));
  }
  sockaddr_storage ss{};
  socklen_t sl = sizeof ss;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &sl);
  port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                         : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
}

ProbeServer::~ProbeServer() {
  if (fd_ >= 0) ::close(fd_);
}

int ProbeServer::serve(const std::atomic<bool>& stop) {
  int served = 0;
  std::vector<std::uint8_t> buf(1 << 20);
  while (!stop.load() && (options_.sessions == 0 || served < options_.sessions)) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 100);
    if (r <= 0) continue;
    Fd c(::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC));
    if (c.fd < 0) continue;
    std::uint8_t hello[16];
    if (!read_exact(c.fd, hello, sizeof hello, Clock::now() + std::chrono::seconds(5)) ||
        std::memcmp(hello, kProbeHello.data(), kProbeHello.size()) != 0) {
      spdlog::warn("probe-server: a connection without the tsfleet probe hello, closed");
      continue;
    }
    const auto session_end = Clock::now() + options_.max_duration;
    std::uint64_t bytes = 0;
    std::optional<Clock::time_point> first;
    Clock::time_point last = Clock::now();
    timeval tv{0, 200'000};
    ::setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (bytes < options_.max_bytes) {
      ssize_t k = ::recv(c.fd, buf.data(), buf.size(), 0);
      if (k < 0 && (errno == EINTR || errno == EAGAIN)) {
        if (Clock::now() >= session_end || stop.load()) break;
        continue;
      }
      if (k <= 0) break;
      auto now = Clock::now();
      if (!first) first = now;
      last = now;
      bytes += static_cast<std::uint64_t>(k);
      if (now >= session_end) break;
    }
    std::uint64_t ns =
        first ? static_cast<std::uint64_t>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(last - *first).count())
              : 0;
    std::uint8_t answer[16];
    put_be64(answer, bytes);
    put_be64(answer + 8, ns);
    [[maybe_unused]] auto sent = ::send(c.fd, answer, sizeof answer, MSG_NOSIGNAL);
    ::shutdown(c.fd, SHUT_WR);
    // Let the client read the answer before the close can reset it (unread data in our buffer).
    timeval drain{1, 0};
    ::setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &drain, sizeof drain);
    for (int i = 0; i < 64 && ::recv(c.fd, buf.data(), buf.size(), 0) > 0; ++i) {
    }
    ++served;
    spdlog::info(
        "probe-server: received {} bytes in {:.3f} s ({})", bytes, static_cast<double>(ns) / 1e9,
        format_bitrate(ns ? static_cast<double>(bytes) * 8e9 / static_cast<double>(ns) : 0));
  }
  return served;
}

std::string format_bitrate(double bps) {
  if (bps >= 1e9) return fmt::format("{:.2f} Gbit/s", bps / 1e9);
  if (bps >= 1e6) return fmt::format("{:.1f} Mbit/s", bps / 1e6);
  if (bps >= 1e3) return fmt::format("{:.1f} kbit/s", bps / 1e3);
  return fmt::format("{:.0f} bit/s", bps);
}

Result throughput_result(const std::string& peer, const std::string& address,
                         const ThroughputMeasurement& m) {
  Result r;
  r.check = "throughput";
  r.subject.host = peer;
  if (m.bytes == 0 || m.seconds <= 0) {
    r.outcome = Outcome::fail;
    r.summary = fmt::format("no data reached {}", address);
    r.detail = "layer: TCP to the probe server";
    r.fix = "run `tsfleet probe-server` on " + peer + " and allow its port in the firewall";
    return r;
  }
  r.outcome = Outcome::pass;
  r.summary =
      fmt::format("{} to {} ({} MB in {:.2f} s, TCP, one stream)",
                  format_bitrate(m.bits_per_second()), address, m.bytes / 1'000'000, m.seconds);
  return r;
}

}  // namespace tsfleet::probe
