// The LocalAPI client.
//
// Why a small hand-written HTTP/1.1 client instead of cpp-httplib's: httplib 0.11 only has
// per-read/per-write timeouts, so a daemon that dribbles bytes never hits a deadline, and its
// streaming API cannot be cancelled from another thread. Here every socket wait is one poll()
// against a single absolute deadline (plus a wake-up pipe for watch cancellation), and the
// chunked watch-ipn-bus stream is decoded incrementally. One connection per request
// (`Connection: close`), as the Go CLI effectively does for one-shot commands.
#include "tsfleet/localapi/client.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <mutex>

#include "tsfleet/error.h"
#include "tsfleet/redact.h"
#include "tsfleet/version.h"

namespace tsfleet::localapi {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::vector<fs::path> socket_candidates(const std::optional<fs::path>& explicit_socket) {
  if (explicit_socket && !explicit_socket->empty()) return {*explicit_socket};
  return {fs::path(kDefaultSocketVarRun), fs::path(kDefaultSocketRun)};
}

std::string_view to_string(PingType t) noexcept {
  switch (t) {
    case PingType::disco:
      return "disco";
    case PingType::tsmp:
      return "TSMP";
    case PingType::icmp:
      return "ICMP";
    case PingType::peerapi:
      return "peerapi";
  }
  return "disco";
}

std::string url_encode(std::string_view s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == ':') {
      out.push_back(static_cast<char>(c));
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

namespace {

std::string format_duration(milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
  if (d.count() > 1000) return fmt::format("{:.1f}s", static_cast<double>(d.count()) / 1000.0);
  return fmt::format("{}ms", d.count());
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = o.fd_;
      o.fd_ = -1;
    }
    return *this;
  }
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// One request's connection: the deadline, the endpoint name for messages, an optional wake fd.
class Connection {
 public:
  Connection(Fd fd, std::string endpoint, std::string socket, Clock::time_point deadline,
             milliseconds timeout)
      : fd_(std::move(fd)),
        endpoint_(std::move(endpoint)),
        socket_(std::move(socket)),
        deadline_(deadline),
        timeout_(timeout) {}

  void set_deadline(std::optional<Clock::time_point> d, milliseconds timeout, bool idle) {
    deadline_ = d;
    timeout_ = timeout;
    idle_ = idle;
  }
  void set_wake_fd(int fd) { wake_fd_ = fd; }
  bool stopped() const { return stopped_; }

  void write_all(std::string_view data) {
    while (!data.empty()) {
      ssize_t n = ::send(fd_.get(), data.data(), data.size(), MSG_NOSIGNAL);
      if (n > 0) {
        data.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
        if (!wait(POLLOUT)) return;  // stop requested; the caller sees stopped()
        continue;
      }
      throw_io("sending the request", errno);
    }
  }

  // Reads more bytes into buf_. Returns false at EOF (or when stopped via the wake fd).
  bool fill() {
    char tmp[65536];
    for (;;) {
      ssize_t n = ::recv(fd_.get(), tmp, sizeof tmp, 0);
      if (n > 0) {
        buf_.append(tmp, static_cast<std::size_t>(n));
        if (idle_ && timeout_.count() > 0) deadline_ = Clock::now() + timeout_;
        return true;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!wait(POLLIN)) return false;
        continue;
      }
      throw_io("reading the response", errno);
    }
  }

  std::string buf_;  // bytes received and not yet consumed

  [[noreturn]] void throw_io(const char* doing, int err) const {
    if (err == ECONNRESET || err == EPIPE) {
      throw Error(ErrorCategory::daemon,
                  fmt::format("tailscaled reset the connection while {} for {} (socket {}); is "
                              "tailscaled restarting? Check `systemctl status tailscaled`",
                              doing, endpoint_, socket_));
    }
    throw Error(ErrorCategory::daemon, fmt::format("error while {} for {} (socket {}): {}", doing,
                                                   endpoint_, socket_, std::strerror(err)));
  }

  const std::string& endpoint() const { return endpoint_; }
  const std::string& socket() const { return socket_; }

 private:
  // Waits for `events`; false if the wake fd fired (stop requested). Throws on the deadline.
  bool wait(short events) {
    for (;;) {
      int wait_ms = -1;
      if (deadline_) {
        auto left = std::chrono::duration_cast<milliseconds>(*deadline_ - Clock::now()).count();
        if (left <= 0) throw_timeout();
        wait_ms = static_cast<int>(std::min<long long>(left + 1, 1'000'000'000));
      }
      pollfd fds[2] = {{fd_.get(), events, 0}, {wake_fd_, POLLIN, 0}};
      int n = ::poll(fds, wake_fd_ >= 0 ? 2 : 1, wait_ms);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) throw_io("waiting for tailscaled", errno);
      if (wake_fd_ >= 0 && fds[1].revents) {
        stopped_ = true;
        return false;
      }
      if (n > 0) return true;
    }
  }

  [[noreturn]] void throw_timeout() const {
    if (idle_) {
      throw Error(ErrorCategory::timeout,
                  fmt::format("{}: no data from tailscaled for {} (socket {})", endpoint_,
                              format_duration(timeout_), socket_));
    }
    throw Error(ErrorCategory::timeout,
                fmt::format("{}: tailscaled did not answer within {} (socket {}); it may be hung — "
                            "check `systemctl status tailscaled`",
                            endpoint_, format_duration(timeout_), socket_));
  }

  Fd fd_;
  std::string endpoint_;
  std::string socket_;
  std::optional<Clock::time_point> deadline_;
  milliseconds timeout_;
  bool idle_ = false;
  int wake_fd_ = -1;
  bool stopped_ = false;
};

struct ResponseHead {
  int status = 0;
  std::map<std::string, std::string> headers;
  bool chunked = false;
  std::optional<std::size_t> content_length;
};

[[noreturn]] void bad_response(const Connection& c, std::string_view what) {
  throw Error(ErrorCategory::daemon,
              fmt::format("{}: invalid HTTP response from tailscaled (socket {}): {}", c.endpoint(),
                          c.socket(), what));
}

ResponseHead read_head(Connection& c) {
  constexpr std::size_t kMaxHead = 64 * 1024;
  std::size_t end;
  while ((end = c.buf_.find("\r\n\r\n")) == std::string::npos) {
    if (c.buf_.size() > kMaxHead) bad_response(c, "headers too large");
    if (!c.fill()) {
      if (c.stopped()) return {};
      if (c.buf_.empty()) {
        throw Error(ErrorCategory::daemon,
                    fmt::format("{}: tailscaled closed the connection without answering (socket "
                                "{}); is it restarting? Check `systemctl status tailscaled`",
                                c.endpoint(), c.socket()));
      }
      bad_response(c, "connection closed in the middle of the headers");
    }
  }
  std::string_view head(c.buf_.data(), end);
  ResponseHead h;
  auto line_end = head.find("\r\n");
  std::string_view status_line = head.substr(0, line_end);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12)
    bad_response(c, "bad status line");
  auto sp = status_line.find(' ');
  std::string_view code = status_line.substr(sp + 1, 3);
  auto [p, ec] = std::from_chars(code.data(), code.data() + code.size(), h.status);
  if (ec != std::errc() || h.status < 100 || h.status > 999) bad_response(c, "bad status code");
  std::string_view rest =
      line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);
  while (!rest.empty()) {
    auto e = rest.find("\r\n");
    std::string_view line = rest.substr(0, e);
    rest = e == std::string_view::npos ? std::string_view() : rest.substr(e + 2);
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string name = lower(trim(line.substr(0, colon)));
    std::string value(trim(line.substr(colon + 1)));
    h.headers[name] = value;
  }
  if (auto it = h.headers.find("transfer-encoding"); it != h.headers.end())
    h.chunked = lower(it->second).find("chunked") != std::string::npos;
  if (auto it = h.headers.find("content-length"); it != h.headers.end() && !h.chunked) {
    std::size_t n = 0;
    auto [q, ec2] = std::from_chars(it->second.data(), it->second.data() + it->second.size(), n);
    if (ec2 != std::errc()) bad_response(c, "bad Content-Length");
    h.content_length = n;
  }
  c.buf_.erase(0, end + 4);
  return h;
}

// Decodes the body incrementally: next() appends the next piece to `out`; false at the end.
class BodyReader {
 public:
  BodyReader(Connection& c, const ResponseHead& h) : c_(c), h_(h) {
    if (h.status == 204 || h.status == 304 || (h.status >= 100 && h.status < 200)) done_ = true;
    if (h.content_length) left_ = *h.content_length;
  }

  bool next(std::string& out) {
    if (done_) return false;
    if (h_.chunked) return next_chunk(out);
    if (h_.content_length) {
      if (left_ == 0) return done_ = true, false;
      if (c_.buf_.empty() && !c_.fill()) {
        if (c_.stopped()) return false;
        truncated(
            fmt::format("got {} of {} bytes", *h_.content_length - left_, *h_.content_length));
      }
      std::size_t n = std::min(left_, c_.buf_.size());
      out.append(c_.buf_, 0, n);
      c_.buf_.erase(0, n);
      left_ -= n;
      return true;
    }
    // Neither: the body runs to EOF.
    if (c_.buf_.empty() && !c_.fill()) return done_ = true, false;
    out += c_.buf_;
    c_.buf_.clear();
    return true;
  }

 private:
  bool next_chunk(std::string& out) {
    if (in_chunk_ == 0) {
      std::string line = read_line();
      if (done_) return false;
      auto semi = line.find(';');
      std::string_view size_text = trim(std::string_view(line).substr(0, semi));
      std::size_t size = 0;
      auto [p, ec] =
          std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
      if (ec != std::errc() || size_text.empty()) bad_response(c_, "bad chunk size");
      if (size == 0) {
        while (!read_line().empty()) {  // trailers
        }
        done_ = true;
        return false;
      }
      in_chunk_ = size;
    }
    if (c_.buf_.empty() && !c_.fill()) {
      if (c_.stopped()) return false;
      truncated("the connection closed in the middle of a chunk");
    }
    std::size_t n = std::min(in_chunk_, c_.buf_.size());
    out.append(c_.buf_, 0, n);
    c_.buf_.erase(0, n);
    in_chunk_ -= n;
    if (in_chunk_ == 0) {
      if (!read_line().empty() && !done_) bad_response(c_, "chunk not followed by CRLF");
    }
    return true;
  }

  std::string read_line() {
    std::size_t e;
    while ((e = c_.buf_.find("\r\n")) == std::string::npos) {
      if (c_.buf_.size() > 4096) bad_response(c_, "chunk header too long");
      if (!c_.fill()) {
        if (c_.stopped()) {
          done_ = true;
          return {};
        }
        truncated("the connection closed before the last chunk");
      }
    }
    std::string line = c_.buf_.substr(0, e);
    c_.buf_.erase(0, e + 2);
    return line;
  }

  [[noreturn]] void truncated(const std::string& detail) {
    throw Error(ErrorCategory::daemon,
                fmt::format("{}: truncated response from tailscaled ({}); is it restarting?",
                            c_.endpoint(), detail));
  }

  Connection& c_;
  const ResponseHead& h_;
  std::size_t left_ = 0;
  std::size_t in_chunk_ = 0;
  bool done_ = false;
};

// Connects to the first candidate socket that accepts. `used` receives its path.
Fd connect_any(const std::vector<fs::path>& candidates, const std::string& endpoint,
               Clock::time_point deadline, fs::path& used) {
  std::vector<std::string> tried;
  bool access_denied = false;
  for (const auto& path : candidates) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string& s = path.native();
    if (s.size() >= sizeof addr.sun_path) {
      tried.push_back(fmt::format("{}: path too long for a Unix socket", s));
      continue;
    }
    std::memcpy(addr.sun_path, s.c_str(), s.size() + 1);
    Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    if (fd.get() < 0)
      throw Error(ErrorCategory::internal, fmt::format("socket(): {}", std::strerror(errno)));
    int rc;
    do {
      rc = ::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0 && (errno == EAGAIN || errno == EINPROGRESS)) {
      // The listen backlog is full: wait for room until the deadline.
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      pollfd p{fd.get(), POLLOUT, 0};
      int n = left > 0 ? ::poll(&p, 1, static_cast<int>(left)) : 0;
      int err = 0;
      socklen_t len = sizeof err;
      if (n <= 0) {
        tried.push_back(fmt::format("{}: connect timed out", s));
        continue;
      }
      ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      rc = err ? -1 : 0;
      errno = err;
    }
    if (rc == 0) {
      used = path;
      return fd;
    }
    int err = errno;
    if (err == EACCES || err == EPERM) access_denied = true;
    const char* why = err == ENOENT         ? "no such socket"
                      : err == ECONNREFUSED ? "connection refused (stale socket: nothing listening)"
                                            : std::strerror(err);
    tried.push_back(fmt::format("{}: {}", s, why));
  }
  std::string list;
  for (const auto& t : tried) list += (list.empty() ? "" : "; ") + t;
  if (access_denied) {
    throw Error(
        ErrorCategory::auth,
        fmt::format("cannot connect to tailscaled for {}: {}. Access to the socket needs root "
                    "or `sudo tailscale set --operator=$USER`",
                    endpoint, list));
  }
  throw Error(
      ErrorCategory::daemon,
      fmt::format("cannot connect to tailscaled for {}: {}. Is tailscaled running? (`systemctl "
                  "status tailscaled`; pass --socket if it listens elsewhere)",
                  endpoint, list));
}

std::string build_request(std::string_view method, std::string_view target, std::string_view body) {
  std::string req = fmt::format(
      "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: tsfleet/{}\r\nTailscale-Cap: 145\r\nAccept: "
      "*/*\r\nConnection: close\r\n",
      method, target, kLocalApiHost, TSFLEET_VERSION);
  if (!body.empty() || method == "POST" || method == "PATCH" || method == "PUT") {
    req += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
  }
  req += "\r\n";
  req.append(body);
  return req;
}

[[noreturn]] void throw_http_error(const std::string& endpoint, const Response& r) {
  // The daemon may echo what it was sent (an auth key in `start`): mask keys before they go
  // anywhere.
  std::string msg = redact(json_error_message(r.body).value_or(std::string(trim(r.body))));
  if (msg.size() > 500) msg = msg.substr(0, 500) + "…";
  if (msg.empty()) msg = "(empty body)";
  if (r.status == 403) {
    throw Error(ErrorCategory::auth,
                fmt::format("{}: access denied by tailscaled (HTTP 403: {}). This needs root or "
                            "`sudo tailscale set --operator=$USER`",
                            endpoint, msg));
  }
  if (r.status == 412) {
    throw Error(ErrorCategory::daemon,
                fmt::format("{}: preconditions failed (HTTP 412): {}", endpoint, msg));
  }
  throw Error(ErrorCategory::daemon,
              fmt::format("{}: tailscaled answered HTTP {}: {}", endpoint, r.status, msg));
}

std::string endpoint_name(std::string_view method, std::string_view path_and_query) {
  return fmt::format("{} /localapi/v0/{}", method, path_and_query);
}

struct OpenedRequest {
  Connection conn;
  ResponseHead head;
};

}  // namespace

LocalApiClient::LocalApiClient(ClientOptions options) : options_(std::move(options)) {}

namespace {

// Connects, sends, reads the head. Shared by request() and watch_ipn_bus().
OpenedRequest open_request(const ClientOptions& opts, fs::path& socket_in_use,
                           std::string_view method, std::string_view path_and_query,
                           std::string_view body, milliseconds timeout, int wake_fd) {
  std::string endpoint = endpoint_name(method, path_and_query);
  auto deadline = Clock::now() + timeout;
  auto candidates = socket_candidates(opts.socket);
  // Try the socket that worked last time first.
  if (!socket_in_use.empty() && candidates.size() > 1) {
    auto it = std::find(candidates.begin(), candidates.end(), socket_in_use);
    if (it != candidates.end()) std::rotate(candidates.begin(), it, it + 1);
  }
  fs::path used;
  Fd fd = connect_any(candidates, endpoint, deadline, used);
  socket_in_use = used;
  Connection conn(std::move(fd), endpoint, used.string(), deadline, timeout);
  conn.set_wake_fd(wake_fd);
  conn.write_all(build_request(method, "/localapi/v0/" + std::string(path_and_query), body));
  ResponseHead head = read_head(conn);
  return OpenedRequest{std::move(conn), std::move(head)};
}

}  // namespace

Response LocalApiClient::request(std::string_view method, std::string_view path_and_query,
                                 std::string_view body, const CallOptions& options) {
  auto timeout = options.timeout.value_or(options_.timeout);
  auto opened = open_request(options_, socket_in_use_, method, path_and_query, body, timeout, -1);
  Response r;
  r.status = opened.head.status;
  r.headers = opened.head.headers;
  BodyReader reader(opened.conn, opened.head);
  while (reader.next(r.body)) {
  }
  if (r.status < 200 || r.status > 299) throw_http_error(opened.conn.endpoint(), r);
  return r;
}

Status LocalApiClient::status(const CallOptions& options) {
  auto r = request("GET", "status", {}, options);
  return parse_status(r.body, "GET /localapi/v0/status", options.warnings);
}

Status LocalApiClient::status_without_peers(const CallOptions& options) {
  auto r = request("GET", "status?peers=false", {}, options);
  return parse_status(r.body, "GET /localapi/v0/status?peers=false", options.warnings);
}

Prefs LocalApiClient::prefs(const CallOptions& options) {
  auto r = request("GET", "prefs", {}, options);
  return parse_prefs(r.body, "GET /localapi/v0/prefs", options.warnings);
}

Prefs LocalApiClient::patch_prefs(const PrefsPatch& patch, const CallOptions& options) {
  auto r = request("PATCH", "prefs", to_masked_prefs_json(patch), options);
  return parse_prefs(r.body, "PATCH /localapi/v0/prefs", options.warnings);
}

PingResult LocalApiClient::ping(std::string_view ip, PingType type, int size,
                                const CallOptions& options) {
  std::string q = fmt::format("ping?ip={}&type={}", url_encode(ip), to_string(type));
  if (size > 0 && type == PingType::disco) q += fmt::format("&size={}", size);
  CallOptions o = options;
  if (!o.timeout) o.timeout = options_.ping_timeout;
  Response r;
  try {
    r = request("POST", q, {}, o);
  } catch (const Error& e) {
    if (e.category() == ErrorCategory::timeout) {
      throw Error(ErrorCategory::timeout,
                  fmt::format("ping \"{}\" timed out: no pong within {} (POST "
                              "/localapi/v0/{})",
                              ip, format_duration(*o.timeout), q));
    }
    throw;
  }
  return parse_ping_result(r.body, "POST /localapi/v0/" + q, options.warnings);
}

WhoIs LocalApiClient::whois(std::string_view addr, const CallOptions& options) {
  std::string q = "whois?addr=" + url_encode(addr);
  try {
    auto r = request("GET", q, {}, options);
    return parse_whois(r.body, "GET /localapi/v0/" + q, options.warnings);
  } catch (const Error& e) {
    if (std::string_view(e.what()).find("HTTP 404") != std::string_view::npos) {
      throw Error(
          ErrorCategory::daemon,
          fmt::format("GET /localapi/v0/{}: peer not found: no node has address {}", q, addr));
    }
    throw;
  }
}

DerpMap LocalApiClient::derp_map(const CallOptions& options) {
  auto r = request("GET", "derpmap", {}, options);
  return parse_derp_map(r.body, "GET /localapi/v0/derpmap", options.warnings);
}

std::string LocalApiClient::check_ip_forwarding(const CallOptions& options) {
  auto r = request("GET", "check-ip-forwarding", {}, options);
  return parse_warning_object(r.body, "GET /localapi/v0/check-ip-forwarding", options.warnings);
}

std::string LocalApiClient::user_metrics(const CallOptions& options) {
  return request("GET", "usermetrics", {}, options).body;
}

std::optional<std::string> LocalApiClient::check_prefs(std::string_view prefs_json,
                                                       const CallOptions& options) {
  auto r = request("POST", "check-prefs", prefs_json, options);
  auto err = json_error_message(r.body);
  if (err) return redact(*err);
  return err;
}

void LocalApiClient::start(std::string_view options_json, const CallOptions& options) {
  request("POST", "start", options_json, options);
}

void LocalApiClient::login_interactive(const CallOptions& options) {
  request("POST", "login-interactive", {}, options);
}

void LocalApiClient::watch_ipn_bus(const NotifyCallback& on_notify, const WatchOptions& options) {
  // A pipe the stop callback writes to, so a blocked poll() wakes at once.
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC | O_NONBLOCK) != 0)
    throw Error(ErrorCategory::internal, fmt::format("pipe(): {}", std::strerror(errno)));
  Fd wake_read(pipe_fds[0]), wake_write(pipe_fds[1]);
  std::stop_callback on_stop(options.stop, [fd = wake_write.get()] {
    char b = 1;
    [[maybe_unused]] auto n = ::write(fd, &b, 1);
  });
  if (options.stop.stop_requested()) return;

  std::string q = fmt::format("watch-ipn-bus?mask={}", options.mask);
  std::string what = "GET /localapi/v0/" + q;
  auto timeout = options.connect_timeout.value_or(options_.timeout);
  auto opened = open_request(options_, socket_in_use_, "GET", q, {}, timeout, wake_read.get());
  if (opened.conn.stopped()) return;
  if (opened.head.status < 200 || opened.head.status > 299) {
    Response r;
    r.status = opened.head.status;
    BodyReader reader(opened.conn, opened.head);
    while (r.body.size() < 64 * 1024 && reader.next(r.body)) {
    }
    throw_http_error(what, r);
  }
  // From here on the stream may be quiet for as long as nothing changes.
  if (options.idle_timeout)
    opened.conn.set_deadline(Clock::now() + *options.idle_timeout, *options.idle_timeout, true);
  else
    opened.conn.set_deadline(std::nullopt, milliseconds(0), true);

  BodyReader reader(opened.conn, opened.head);
  std::string pending;
  constexpr std::size_t kMaxLine = 64 * 1024 * 1024;
  for (;;) {
    std::size_t nl;
    while ((nl = pending.find('\n')) != std::string::npos) {
      std::string_view line = trim(std::string_view(pending).substr(0, nl));
      if (!line.empty()) {
        Notify n = parse_notify(line, what);
        if (!on_notify(n)) return;
        if (options.stop.stop_requested()) return;
      }
      pending.erase(0, nl + 1);
    }
    if (pending.size() > kMaxLine) bad_response(opened.conn, "a Notify line is larger than 64 MiB");
    bool more = false;
    try {
      more = reader.next(pending);
    } catch (const Error& e) {
      if (e.category() != ErrorCategory::daemon) throw;
      // A stream cut in the middle of a chunk or reset is the same event to a watcher.
      more = false;
    }
    if (!more) {
      if (opened.conn.stopped() || options.stop.stop_requested()) return;
      throw Error(
          ErrorCategory::daemon,
          fmt::format("{}: tailscaled closed the stream (socket {}); it may have restarted — "
                      "reconnect when the socket is back",
                      what, opened.conn.socket()));
    }
  }
}

}  // namespace tsfleet::localapi
