#pragma once
// The tailscaled LocalAPI client: HTTP/1.1 over tailscaled's Unix socket
// (tailscale-api.md §1-2). Every call has a deadline; every failure is a tsfleet::Error whose
// message names the endpoint (e.g. `GET /localapi/v0/status`) or the socket path(s) tried and
// says what to do:
//   ErrorCategory::daemon   socket missing / connection refused ("is tailscaled running?"),
//                           connection reset, HTTP errors, truncated or malformed JSON
//   ErrorCategory::auth     HTTP 403, or the socket is not accessible ("needs root or
//                           `tailscale set --operator=$USER`")
//   ErrorCategory::timeout  the deadline passed; the message names the endpoint and the deadline
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/localapi/types.h"

namespace tsfleet::localapi {

inline constexpr std::string_view kDefaultSocketVarRun = "/var/run/tailscale/tailscaled.sock";
inline constexpr std::string_view kDefaultSocketRun = "/run/tailscale/tailscaled.sock";
inline constexpr std::string_view kLocalApiHost = "local-tailscaled.sock";

// The sockets to try, in order: only `explicit_socket` when it is given (the user's `--socket`,
// as the Go CLI does), else /var/run/tailscale/tailscaled.sock then /run/tailscale/tailscaled.sock.
std::vector<std::filesystem::path> socket_candidates(
    const std::optional<std::filesystem::path>& explicit_socket);

struct ClientOptions {
  std::optional<std::filesystem::path> socket;    // --socket; see socket_candidates()
  std::chrono::milliseconds timeout{10'000};      // the default deadline of a call
  std::chrono::milliseconds ping_timeout{5'000};  // ping has no server-side timeout (CLI uses 5 s)
};

struct CallOptions {
  std::optional<std::chrono::milliseconds> timeout;  // overrides the client's default deadline
  ParseWarnings* warnings = nullptr;                 // receives lenient-parse warnings, if given
};

// A raw HTTP response. Header names are lower-cased.
struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

enum class PingType { disco, tsmp, icmp, peerapi };
std::string_view to_string(PingType t) noexcept;  // "disco" | "TSMP" | "ICMP" | "peerapi"

struct WatchOptions {
  std::uint64_t mask = notify_mask::monitor;  // the `mask` query parameter (see notify_mask)
  std::stop_token stop;                       // request_stop() ends the watch promptly
  std::optional<std::chrono::milliseconds> connect_timeout;  // deadline for connect + headers
  // If set, a stream silent for this long is an ErrorCategory::timeout error. A quiet daemon is
  // normal (nothing changed), so this is off by default.
  std::optional<std::chrono::milliseconds> idle_timeout;
};

// Called for every Notify; return false to end the watch.
using NotifyCallback = std::function<bool(const Notify&)>;

// The daemon as the rest of tsfleet sees it: a small interface so unit tests can fake it.
class LocalApi {
 public:
  virtual ~LocalApi() = default;
  // GET status (with peers, or ?peers=false).
  virtual Status status(const CallOptions& options = {}) = 0;
  virtual Status status_without_peers(const CallOptions& options = {}) = 0;
  // GET prefs.
  virtual Prefs prefs(const CallOptions& options = {}) = 0;
  // PATCH prefs with the MaskedPrefs of `patch`; returns the daemon's new prefs.
  virtual Prefs patch_prefs(const PrefsPatch& patch, const CallOptions& options = {}) = 0;
  // POST ping?ip=&type=[&size=]. A PingResult with `err` set is a normal result (no such peer,
  // local IP); no pong before the deadline (default ClientOptions::ping_timeout) throws timeout.
  virtual PingResult ping(std::string_view ip, PingType type, int size = 0,
                          const CallOptions& options = {}) = 0;
  // GET whois?addr=. An unknown address throws ErrorCategory::daemon "peer not found".
  virtual WhoIs whois(std::string_view addr, const CallOptions& options = {}) = 0;
  // GET derpmap.
  virtual DerpMap derp_map(const CallOptions& options = {}) = 0;
  // GET check-ip-forwarding: the warning text, "" when forwarding is fine.
  virtual std::string check_ip_forwarding(const CallOptions& options = {}) = 0;
  // GET usermetrics: Prometheus text exposition, returned unparsed.
  virtual std::string user_metrics(const CallOptions& options = {}) = 0;
  // GET watch-ipn-bus?mask=: reads newline-delimited Notify objects as they arrive and calls
  // `on_notify` for each, until it returns false or `options.stop` is requested (both return
  // normally). The daemon closing the stream (e.g. a restart) throws ErrorCategory::daemon.
  virtual void watch_ipn_bus(const NotifyCallback& on_notify, const WatchOptions& options = {}) = 0;
};

class LocalApiClient final : public LocalApi {
 public:
  explicit LocalApiClient(ClientOptions options = {});

  Status status(const CallOptions& options = {}) override;
  Status status_without_peers(const CallOptions& options = {}) override;
  Prefs prefs(const CallOptions& options = {}) override;
  Prefs patch_prefs(const PrefsPatch& patch, const CallOptions& options = {}) override;
  PingResult ping(std::string_view ip, PingType type, int size = 0,
                  const CallOptions& options = {}) override;
  WhoIs whois(std::string_view addr, const CallOptions& options = {}) override;
  DerpMap derp_map(const CallOptions& options = {}) override;
  std::string check_ip_forwarding(const CallOptions& options = {}) override;
  std::string user_metrics(const CallOptions& options = {}) override;
  void watch_ipn_bus(const NotifyCallback& on_notify, const WatchOptions& options = {}) override;

  // POST check-prefs with a full Prefs JSON body: nullopt when the daemon accepts it, else its
  // `Error` text. (The endpoint always answers 200.)
  std::optional<std::string> check_prefs(std::string_view prefs_json,
                                         const CallOptions& options = {});
  // POST start with an ipn.Options JSON body ({"AuthKey":…, "UpdatePrefs":{…}}).
  void start(std::string_view options_json, const CallOptions& options = {});
  // POST login-interactive (the URL then arrives on watch-ipn-bus as BrowseToURL).
  void login_interactive(const CallOptions& options = {});

  // One request to /localapi/v0/<path_and_query>: connects (trying socket_candidates() in order),
  // sends it, reads the whole response before the deadline. Throws the errors described at the
  // top of this header, including for any non-2xx status.
  Response request(std::string_view method, std::string_view path_and_query,
                   std::string_view body = {}, const CallOptions& options = {});

  // The socket that last accepted a connection (empty before the first call).
  const std::filesystem::path& socket_in_use() const { return socket_in_use_; }
  const ClientOptions& options() const { return options_; }

 private:
  ClientOptions options_;
  std::filesystem::path socket_in_use_;
};

// Percent-encodes a query parameter value.
std::string url_encode(std::string_view s);

}  // namespace tsfleet::localapi
