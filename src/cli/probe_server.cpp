// tsfleet probe-server: the other end of `tsfleet test --throughput` (tsfleet/probe/throughput.h).
#include <fmt/format.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <memory>

#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/probe/throughput.h"
#include "verbs.h"

namespace tsfleet::cli {

struct ProbeServerCliOptions {
  std::string listen = "0.0.0.0";
  int port = probe::kDefaultProbePort;
  bool once = false;
  int sessions = 0;
  double max_seconds = 30;
  std::uint64_t max_bytes = 16ull << 30;
};

namespace {

std::atomic<bool> g_stop{false};
void stop_probe_server(int) { g_stop.store(true); }

int run_probe_server(const ProbeServerCliOptions& o) {
  if (o.port < 0 || o.port > 65535) throw Error(ErrorCategory::usage, "--port: want 0-65535");
  if (o.max_seconds <= 0 || o.max_seconds > 600)
    throw Error(ErrorCategory::usage, "--max-seconds: want more than 0, at most 600");
  probe::ProbeServerOptions so;
  so.listen = o.listen;
  so.port = static_cast<std::uint16_t>(o.port);
  so.sessions = o.once ? 1 : o.sessions;
  so.max_bytes = o.max_bytes;
  so.max_duration = std::chrono::milliseconds(static_cast<long long>(o.max_seconds * 1000));
  probe::ProbeServer server(so);
  std::signal(SIGINT, stop_probe_server);
  std::signal(SIGTERM, stop_probe_server);
  print_out(fmt::format("tsfleet probe-server listening on {} port {}\n", o.listen, server.port()));
  std::fflush(stdout);
  server.serve(g_stop);
  return 0;
}

}  // namespace

void setup_probe_server(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<ProbeServerCliOptions>();
  sub.add_option("--listen", o->listen,
                 "Address to listen on (default 0.0.0.0; use this host's tailnet address)");
  sub.add_option("--port", o->port, "TCP port (default 5299; 0 picks a free one and prints it)");
  sub.add_flag("--once", o->once, "Exit after one measurement");
  sub.add_option("--sessions", o->sessions,
                 "Exit after this many measurements (default: until SIGINT/SIGTERM)");
  sub.add_option("--max-seconds", o->max_seconds,
                 "Longest measurement accepted, in seconds (default 30)");
  sub.add_option("--max-bytes", o->max_bytes, "Most bytes read per measurement (default 16 GiB)");
  run = [o] { return run_probe_server(*o); };
}

}  // namespace tsfleet::cli
