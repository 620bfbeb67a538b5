#include "support/sntp_responder.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace tsfleet::testing {

namespace {

// Now (plus `offset`) as an NTP timestamp: seconds since 1900 . 32-bit fraction.
std::uint64_t ntp_now(std::chrono::milliseconds offset) {
  auto t = std::chrono::system_clock::now() + offset;
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::uint64_t secs = static_cast<std::uint64_t>(ns / 1'000'000'000) + 2208988800ULL;
  std::uint64_t frac = (static_cast<std::uint64_t>(ns % 1'000'000'000) << 32) / 1'000'000'000;
  return ((secs & 0xffffffffULL) << 32) | frac;
}

void put64(unsigned char* b, std::uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<unsigned char>(v & 0xff);
    v >>= 8;
  }
}

}  // namespace

SntpResponder::SntpResponder(Options options) : options_(options) {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0)
    throw std::runtime_error(std::string("sntp responder: socket: ") + std::strerror(errno));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = 0;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd_);
    throw std::runtime_error(std::string("sntp responder: bind: ") + std::strerror(errno));
  }
  socklen_t len = sizeof a;
  ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { loop(); });
}

SntpResponder::~SntpResponder() {
  stop_ = true;
  thread_.join();
  ::close(fd_);
}

void SntpResponder::set_offset(std::chrono::milliseconds offset) {
  std::lock_guard lk(mu_);
  options_.offset = offset;
}

void SntpResponder::loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0) continue;
    unsigned char q[512];
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ssize_t n = ::recvfrom(fd_, q, sizeof q, 0, reinterpret_cast<sockaddr*>(&from), &fl);
    if (n < 48 || (q[0] & 7) != 3) continue;  // only client-mode requests
    ++queries_;
    Options o;
    {
      std::lock_guard lk(mu_);
      o = options_;
    }
    if (o.silent) continue;
    std::uint64_t received = ntp_now(o.offset);
    if (o.delay.count() > 0) std::this_thread::sleep_for(o.delay);
    unsigned char r[48] = {};
    r[0] = static_cast<unsigned char>(((o.leap & 3) << 6) | (q[0] & 0x38) | (o.mode & 7));
    r[1] = static_cast<unsigned char>(o.stratum);
    r[2] = q[2];                             // poll: as asked
    r[3] = static_cast<unsigned char>(-20);  // precision: about a microsecond
    r[12] = static_cast<unsigned char>(o.reference_id >> 24);
    r[13] = static_cast<unsigned char>(o.reference_id >> 16);
    r[14] = static_cast<unsigned char>(o.reference_id >> 8);
    r[15] = static_cast<unsigned char>(o.reference_id);
    put64(r + 16, received - (std::uint64_t{16} << 32));  // last set 16 s ago
    std::memcpy(r + 24, q + 40, 8);                       // originate = the request's transmit
    put64(r + 32, received);
    if (o.wrong_originate) {
      unsigned char stray[48];
      std::memcpy(stray, r, 48);
      stray[31] ^= 0x5a;
      put64(stray + 40, ntp_now(o.offset));
      ::sendto(fd_, stray, sizeof stray, 0, reinterpret_cast<sockaddr*>(&from), fl);
    }
    put64(r + 40, ntp_now(o.offset));
    ::sendto(fd_, r, sizeof r, 0, reinterpret_cast<sockaddr*>(&from), fl);
  }
}

}  // namespace tsfleet::testing
