#pragma once
// A bounded TCP throughput probe: the client streams bytes to `tsfleet probe-server`, which
// counts what it received between the first byte and the client's end of stream and sends that
// count and time back. The figure is the receiver's, like iperf3's "receiver" line.
//
// Wire format (docs/probes.md): client sends the 16-byte hello "TSFLEET-PROBE/1\n", then data,
// then shuts down its write side; server answers 16 bytes: received bytes (u64, big-endian) and
// nanoseconds from first to last byte (u64, big-endian), then closes.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "tsfleet/report/result.h"

namespace tsfleet::probe {

inline constexpr std::uint16_t kDefaultProbePort = 5299;
inline constexpr std::string_view kProbeHello = "TSFLEET-PROBE/1\n";

struct ThroughputLimits {
  std::uint64_t max_bytes = 4ull << 30;      // stop sending after this many bytes
  std::chrono::milliseconds duration{3000};  // or after this long, whichever is first
  std::chrono::milliseconds connect_timeout{3000};
};

struct ThroughputMeasurement {
  std::uint64_t bytes = 0;  // received by the server
  double seconds = 0;       // the server's first-to-last-byte time
  double bits_per_second() const {
    return seconds > 0 ? static_cast<double>(bytes) * 8 / seconds : 0;
  }
};

// Measures to host:port. Throws Error(io) when the connection fails or the server's answer is
// missing or malformed, Error(timeout) when connecting takes too long.
ThroughputMeasurement measure_throughput(const std::string& host, std::uint16_t port,
                                         const ThroughputLimits& limits);

struct ProbeServerOptions {
  std::string listen = "0.0.0.0";
  std::uint16_t port = kDefaultProbePort;          // 0: any free port (see ProbeServer::port())
  std::uint64_t max_bytes = 16ull << 30;           // per session: reading stops beyond this
  std::chrono::milliseconds max_duration{30'000};  // per session
  int sessions = 0;  // serve this many sessions then return; 0: until stopped
};

// The other end. Sessions are served one at a time (a measurement should not share the link).
class ProbeServer {
 public:
  // Binds and listens. Throws Error(io) naming the address when it cannot.
  explicit ProbeServer(ProbeServerOptions options);
  ~ProbeServer();
  ProbeServer(const ProbeServer&) = delete;
  ProbeServer& operator=(const ProbeServer&) = delete;
  std::uint16_t port() const { return port_; }
  // Serves until `stop` is set or `sessions` are done. Returns the number served.
  int serve(const std::atomic<bool>& stop);

 private:
  ProbeServerOptions options_;
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

// Formats bits/s as "9.41 Gbit/s" / "941 Mbit/s".
std::string format_bitrate(double bits_per_second);

// Check id "throughput": PASS with the figure, or FAIL naming the layer when it could not run.
Result throughput_result(const std::string& peer, const std::string& address,
                         const ThroughputMeasurement& m);

}  // namespace tsfleet::probe
