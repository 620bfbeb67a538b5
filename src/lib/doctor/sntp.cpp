// The SNTP client: packet codec, reply validation and offset arithmetic (pure), configuration
// readers for timesyncd and chrony (pure), and query_sntp() (UDP, with one deadline).
#include "tsfleet/doctor/sntp.h"

#include "text.h"

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
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

namespace tsfleet::doctor {

namespace {

using text::for_each_line;
using text::is_space;
using text::split_ws;
using text::trim;


// Seconds from 1900-01-01 (the NTP epoch) to 1970-01-01 (the Unix epoch).
constexpr std::int64_t ntp_unix_offset = 2208988800LL;

std::uint32_t get32(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}
std::uint64_t get64(std::span<const std::uint8_t> b, std::size_t at) {
  return (std::uint64_t{get32(b, at)} << 32) | get32(b, at + 4);
}
void put32(std::uint8_t* b, std::uint32_t v) {
  b[0] = static_cast<std::uint8_t>(v >> 24);
  b[1] = static_cast<std::uint8_t>(v >> 16);
  b[2] = static_cast<std::uint8_t>(v >> 8);
  b[3] = static_cast<std::uint8_t>(v);
}
void put64(std::uint8_t* b, std::uint64_t v) {
  put32(b, static_cast<std::uint32_t>(v >> 32));
  put32(b + 4, static_cast<std::uint32_t>(v));
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  unsigned v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<unsigned>(c - '0');
  }
  if (v < 1 || v > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(v);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

void add_unique(std::vector<std::string>& v, std::string_view s) {
  if (!s.empty() && std::find(v.begin(), v.end(), s) == v.end()) v.emplace_back(s);
}

}  // namespace

std::array<std::uint8_t, ntp_packet_size> encode_ntp_packet(const NtpPacket& p) {
  std::array<std::uint8_t, ntp_packet_size> b{};
  b[0] = static_cast<std::uint8_t>(((p.leap & 3) << 6) | ((p.version & 7) << 3) | (p.mode & 7));
  b[1] = static_cast<std::uint8_t>(p.stratum & 0xff);
  b[2] = static_cast<std::uint8_t>(p.poll & 0xff);
  b[3] = static_cast<std::uint8_t>(p.precision & 0xff);
  put32(&b[4], p.root_delay);
  put32(&b[8], p.root_dispersion);
  put32(&b[12], p.reference_id);
  put64(&b[16], p.reference);
  put64(&b[24], p.originate);
  put64(&b[32], p.receive);
  put64(&b[40], p.transmit);
  return b;
}

std::optional<NtpPacket> decode_ntp_packet(std::span<const std::uint8_t> b) {
  if (b.size() < ntp_packet_size) return std::nullopt;
  NtpPacket p;
  p.leap = b[0] >> 6;
  p.version = (b[0] >> 3) & 7;
  p.mode = b[0] & 7;
  p.stratum = b[1];
  p.poll = static_cast<std::int8_t>(b[2]);
  p.precision = static_cast<std::int8_t>(b[3]);
  p.root_delay = get32(b, 4);
  p.root_dispersion = get32(b, 8);
  p.reference_id = get32(b, 12);
  p.reference = get64(b, 16);
  p.originate = get64(b, 24);
  p.receive = get64(b, 32);
  p.transmit = get64(b, 40);
  return p;
}

std::array<std::uint8_t, ntp_packet_size> make_sntp_request(NtpTimestamp transmit) {
  NtpPacket p;
  p.leap = 0;
  p.version = 4;
  p.mode = 3;
  p.transmit = transmit;
  return encode_ntp_packet(p);
}

std::string reference_id_text(std::uint32_t id, int stratum) {
  if (stratum <= 1) {
    std::string s;
    for (int shift = 24; shift >= 0; shift -= 8) {
      char c = static_cast<char>((id >> shift) & 0xff);
      if (c == '\0') break;
      s += std::isprint(static_cast<unsigned char>(c)) ? c : '?';
    }
    return s;
  }
  return fmt::format("{}.{}.{}.{}", id >> 24, (id >> 16) & 0xff, (id >> 8) & 0xff, id & 0xff);
}

std::optional<NtpPacket> parse_sntp_reply(std::span<const std::uint8_t> bytes, NtpTimestamp sent,
                                          std::string* why) {
  auto fail = [&](std::string w) -> std::optional<NtpPacket> {
    if (why) *why = std::move(w);
    return std::nullopt;
  };
  auto p = decode_ntp_packet(bytes);
  if (!p) return fail(fmt::format("{} bytes, shorter than an NTP packet (48)", bytes.size()));
  if (p->mode != 4) return fail(fmt::format("mode {}, not a server's reply (4)", p->mode));
  if (p->originate != sent)
    return fail(
        "its originate timestamp is not the request's transmit timestamp (a stale or spoofed "
        "reply)");
  if (p->version < 1 || p->version > 4)
    return fail(fmt::format("NTP version {}, not 1 to 4", p->version));
  if (p->stratum == 0)
    return fail(fmt::format("a kiss-o'-death ({}): the server refuses to serve this client now",
                            reference_id_text(p->reference_id, 0)));
  if (p->stratum > 15)
    return fail(fmt::format("stratum {}: the server itself is not synchronized", p->stratum));
  if (p->leap == 3) return fail("leap indicator 3 (alarm): the server's clock is not synchronized");
  if (p->transmit == 0) return fail("its transmit timestamp is zero");
  return p;
}

NtpTimestamp to_ntp_time(std::chrono::system_clock::time_point t) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t rem = ns % 1'000'000'000;
  if (rem < 0) {
    rem += 1'000'000'000;
    --secs;
  }
  auto era_secs = static_cast<std::uint32_t>(static_cast<std::uint64_t>(secs + ntp_unix_offset));
  auto frac = static_cast<std::uint32_t>((static_cast<std::uint64_t>(rem) << 32) / 1'000'000'000);
  return (NtpTimestamp{era_secs} << 32) | frac;
}

std::chrono::nanoseconds ntp_difference(NtpTimestamp a, NtpTimestamp b) {
  auto d = static_cast<std::int64_t>(a - b);  // modulo 2^64: exact across an era wrap
  std::int64_t secs = d >> 32;                // floor, also for negative differences
  auto frac = static_cast<std::uint64_t>(d) & 0xffffffffULL;
  auto frac_ns = static_cast<std::int64_t>((frac * 1'000'000'000ULL) >> 32);
  return std::chrono::nanoseconds(secs * 1'000'000'000 + frac_ns);
}

SntpTiming sntp_timing(NtpTimestamp t1, NtpTimestamp t2, NtpTimestamp t3, NtpTimestamp t4) {
  SntpTiming t;
  t.offset = (ntp_difference(t2, t1) + ntp_difference(t3, t4)) / 2;
  t.delay = ntp_difference(t4, t1) - ntp_difference(t3, t2);
  return t;
}

std::string TimeServer::text() const {
  if (host.find(':') != std::string::npos) return fmt::format("[{}]:{}", host, port);
  return fmt::format("{}:{}", host, port);
}

std::optional<TimeServer> parse_time_server(std::string_view text, std::string* why) {
  auto fail = [&](std::string w) -> std::optional<TimeServer> {
    if (why) *why = std::move(w);
    return std::nullopt;
  };
  std::string_view t = trim(text);
  if (t.empty()) return fail("give a host name or address, e.g. pool.ntp.org or 192.0.2.1:123");
  TimeServer s;
  std::string_view port;
  if (t.front() == '[') {
    size_t close = t.find(']');
    if (close == std::string_view::npos) return fail("an IPv6 address in [ ] lacks the ]");
    s.host = std::string(t.substr(1, close - 1));
    std::string_view rest = t.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return fail("write [IPV6]:PORT");
      port = rest.substr(1);
      if (port.empty()) return fail("the port after ':' is missing");
    }
  } else if (std::count(t.begin(), t.end(), ':') == 1) {
    size_t colon = t.find(':');
    s.host = std::string(t.substr(0, colon));
    port = t.substr(colon + 1);
    if (port.empty()) return fail("the port after ':' is missing");
  } else {
    s.host = std::string(t);  // a name, an IPv4 address, or a bare IPv6 address
  }
  if (s.host.empty()) return fail("the host is empty");
  if (std::any_of(s.host.begin(), s.host.end(), [](char c) {
        return is_space(c) || c == '[' || c == ']' || c == '/' || c == '\0';
      }))
    return fail(fmt::format("\"{}\" is not a host name or address", s.host));
  if (!port.empty()) {
    auto p = parse_port(port);
    if (!p) return fail(fmt::format("port \"{}\" is not a number from 1 to 65535", port));
    s.port = *p;
  }
  return s;
}

void apply_timesyncd_conf(std::string_view text, std::vector<std::string>& servers,
                          std::vector<std::string>& fallback) {
  text::for_each_ini_entry(text, "Time", [&](std::string_view key, std::string_view value) {
    std::vector<std::string>* list = key == "NTP"           ? &servers
                                     : key == "FallbackNTP" ? &fallback
                                                            : nullptr;
    if (!list) return;
    auto ws = split_ws(value);
    if (ws.empty()) list->clear();
    for (auto w : ws) add_unique(*list, w);
  });
}

std::vector<TimeServer> parse_chrony_conf(std::string_view text,
                                          std::vector<std::string>* includes) {
  std::vector<TimeServer> out;
  for_each_line(text, [&](std::string_view line) {
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#' || t.front() == '!' || t.front() == ';' || t.front() == '%')
      return;
    auto ws = split_ws(t);
    if (ws.size() < 2) return;
    std::string directive = lower(ws[0]);
    if (directive == "confdir" || directive == "sourcedir" || directive == "include") {
      if (includes)
        for (size_t i = 1; i < ws.size(); ++i) add_unique(*includes, ws[i]);
      return;
    }
    if (directive != "server" && directive != "pool") return;
    TimeServer s;
    std::string_view host = ws[1];
    if (host.size() > 2 && host.front() == '[' && host.back() == ']')
      host = host.substr(1, host.size() - 2);
    s.host = std::string(host);
    if (s.host.empty()) return;
    for (size_t i = 2; i + 1 < ws.size(); ++i)
      if (lower(ws[i]) == "port")
        if (auto p = parse_port(ws[i + 1])) s.port = *p;
    bool seen = std::any_of(out.begin(), out.end(), [&](const TimeServer& o) {
      return o.host == s.host && o.port == s.port;
    });
    if (!seen) out.push_back(std::move(s));
  });
  return out;
}

// ---- the network ----------------------------------------------------------------------------

namespace {

using Clock = std::chrono::steady_clock;

struct Address {
  sockaddr_storage storage{};
  socklen_t length = 0;
  std::string text;  // "192.0.2.1:123", "[2001:db8::1]:123"
};

std::string address_text(const sockaddr* sa, std::uint16_t port) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (sa->sa_family == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    return fmt::format("{}:{}", buf, port);
  }
  ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
  return fmt::format("[{}]:{}", buf, port);
}

// A numeric address at once; a name through getaddrinfo in a thread, waited for until
// `deadline` (getaddrinfo itself has no timeout). A lookup still running then is left to finish
// on its own; it only touches the state it shares by shared_ptr.
std::vector<Address> resolve(const TimeServer& server, Clock::time_point deadline,
                             std::string& error) {
  std::vector<Address> out;
  Address a;
  auto* v4 = reinterpret_cast<sockaddr_in*>(&a.storage);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&a.storage);
  if (::inet_pton(AF_INET, server.host.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(server.port);
    a.length = sizeof(sockaddr_in);
  } else if (::inet_pton(AF_INET6, server.host.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(server.port);
    a.length = sizeof(sockaddr_in6);
  }
  if (a.length) {
    a.text = address_text(reinterpret_cast<sockaddr*>(&a.storage), server.port);
    out.push_back(a);
    return out;
  }

  struct Lookup {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    int rc = 0;
    std::vector<Address> addresses;
  };
  auto state = std::make_shared<Lookup>();
  try {
    std::thread([state, host = server.host, port = server.port] {
      addrinfo hints{};
      hints.ai_family = AF_UNSPEC;
      hints.ai_socktype = SOCK_DGRAM;
      hints.ai_protocol = IPPROTO_UDP;
      hints.ai_flags = AI_NUMERICSERV;
      addrinfo* res = nullptr;
      int rc = ::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res);
      std::vector<Address> found;
      for (addrinfo* ai = res; rc == 0 && ai && found.size() < 4; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof(sockaddr_storage))
          continue;
        Address x;
        std::memcpy(&x.storage, ai->ai_addr, ai->ai_addrlen);
        x.length = static_cast<socklen_t>(ai->ai_addrlen);
        x.text = address_text(ai->ai_addr, port);
        found.push_back(x);
      }
      if (res) ::freeaddrinfo(res);
      std::lock_guard lk(state->mu);
      state->rc = rc;
      state->addresses = std::move(found);
      state->done = true;
      state->cv.notify_all();
    }).detach();
  } catch (const std::exception& e) {
    error = fmt::format("cannot look up NTP server {}: {}", server.host, e.what());
    return out;
  }
  std::unique_lock lk(state->mu);
  if (!state->cv.wait_until(lk, deadline, [&] { return state->done; })) {
    error = fmt::format(
        "looking up NTP server {} took too long (check this host's DNS, or give --time-server an "
        "IP address)",
        server.host);
    return out;
  }
  if (state->rc != 0) {
    error = fmt::format("cannot resolve NTP server {}: {} (check the name and this host's DNS)",
                        server.host, ::gai_strerror(state->rc));
    return out;
  }
  if (state->addresses.empty())
    error = fmt::format("NTP server {} has no IPv4 or IPv6 address", server.host);
  return state->addresses;
}

class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

NtpTimestamp random_timestamp() {
  static thread_local std::mt19937_64 gen{[] {
    std::random_device rd;
    return (std::uint64_t{rd()} << 32) ^ rd();
  }()};
  NtpTimestamp t = 0;
  while (t == 0) t = gen();
  return t;
}

std::string seconds_text(std::chrono::milliseconds ms) {
  if (ms.count() % 1000 == 0) return fmt::format("{} s", ms.count() / 1000);
  return fmt::format("{:.1f} s", static_cast<double>(ms.count()) / 1000.0);
}

// One request to one address, waiting until `until`.
SntpResult ask_address(const TimeServer& server, const Address& to, Clock::time_point until,
                       std::chrono::milliseconds timeout) {
  SntpResult r;
  auto fail = [&](SntpFailure f, std::string e) {
    r.failure = f;
    r.error = std::move(e);
    return r;
  };
  const std::string who = to.text == server.text() ? to.text : to.text + " (" + server.text() + ")";
  Socket s(::socket(to.storage.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP));
  if (s.get() < 0)
    return fail(SntpFailure::network,
                fmt::format("cannot open a UDP socket for {}: {}", who, std::strerror(errno)));
  if (::connect(s.get(), reinterpret_cast<const sockaddr*>(&to.storage), to.length) != 0)
    return fail(SntpFailure::network,
                fmt::format("cannot send to NTP server {}: {} (no route to it?)", who,
                            std::strerror(errno)));
  NtpTimestamp sent = random_timestamp();
  auto request = make_sntp_request(sent);
  NtpTimestamp t1 = to_ntp_time(std::chrono::system_clock::now());
  if (::send(s.get(), request.data(), request.size(), 0) != static_cast<ssize_t>(request.size()))
    return fail(SntpFailure::network,
                fmt::format("cannot send to NTP server {}: {}", who, std::strerror(errno)));
  std::string ignored;
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) break;
    pollfd p{s.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 60'000)));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    std::uint8_t buf[1024];
    ssize_t got = ::recv(s.get(), buf, sizeof buf, 0);
    NtpTimestamp t4 = to_ntp_time(std::chrono::system_clock::now());
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      if (errno == ECONNREFUSED)
        return fail(SntpFailure::refused,
                    fmt::format("NTP server {} refused (ICMP port unreachable): nothing serves NTP "
                                "on UDP {} there",
                                who, server.port));
      return fail(SntpFailure::network,
                  fmt::format("NTP server {}: {}", who, std::strerror(errno)));
    }
    std::span<const std::uint8_t> bytes(buf, static_cast<std::size_t>(got));
    std::string why;
    auto reply = parse_sntp_reply(bytes, sent, &why);
    if (!reply) {
      auto p = decode_ntp_packet(bytes);
      if (p && p->mode == 4 && p->originate == sent)  // the server's own answer: final
        return fail(SntpFailure::bad_reply,
                    fmt::format("NTP server {} answered unusably: {}", who, why));
      ignored = why;  // not an answer to this request: keep waiting
      continue;
    }
    auto timing = sntp_timing(t1, reply->receive, reply->transmit, t4);
    SntpMeasurement m;
    m.server = server.text();
    m.address = to.text;
    m.offset = timing.offset;
    m.delay = timing.delay;
    m.stratum = reply->stratum;
    m.leap = reply->leap;
    m.reference = reference_id_text(reply->reference_id, reply->stratum);
    r.measurement = m;
    return r;
  }
  return fail(
      SntpFailure::timeout,
      fmt::format(
          "no answer from NTP server {} within {}: UDP {} may be blocked on the way "
          "(a firewall or the network){}",
          who, seconds_text(timeout), server.port,
          ignored.empty() ? "" : "; a datagram that did not answer the request: " + ignored));
}

}  // namespace

SntpResult query_sntp(const TimeServer& server, std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  SntpResult r;
  auto addresses = resolve(server, deadline, r.error);
  if (addresses.empty()) {
    r.failure = SntpFailure::resolve;
    return r;
  }
  std::vector<std::string> errors;
  for (size_t i = 0; i < addresses.size(); ++i) {
    auto now = Clock::now();
    if (now >= deadline) break;
    // Each remaining address gets an equal share of the time left.
    auto until = now + (deadline - now) / static_cast<long>(addresses.size() - i);
    auto one = ask_address(server, addresses[i], until,
                           std::chrono::ceil<std::chrono::milliseconds>(until - now));
    if (one.measurement) return one;
    r.failure = one.failure;
    errors.push_back(one.error);
  }
  if (errors.empty()) {
    r.failure = SntpFailure::timeout;
    errors.push_back(fmt::format("no time was left to ask NTP server {}", server.text()));
  }
  std::string all;
  for (const auto& e : errors) all += (all.empty() ? "" : "; ") + e;
  r.error = all;
  return r;
}

}  // namespace tsfleet::doctor
