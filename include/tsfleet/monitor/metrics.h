#pragma once
// The Prometheus metrics monitor exports (on --listen and in --textfile), rendered from the last
// Snapshot. Every family has HELP and TYPE; label values are escaped; `promtool check metrics`
// accepts the output (tests run it).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tsfleet/monitor/expectations.h"
#include "tsfleet/monitor/snapshot.h"

namespace tsfleet::monitor {

// What monitor itself counted since it started.
struct MonitorCounters {
  std::uint64_t ticks = 0;
  std::uint64_t tick_failures = 0;  // daemon unreachable or answered with an error
  std::uint64_t restarts = 0;       // remediation restarts attempted
  std::uint64_t restart_failures = 0;
  std::uint64_t hook_runs = 0;
  std::uint64_t hook_failures = 0;  // non-zero exit, killed after the timeout, or not startable
  std::uint64_t hooks_dropped = 0;  // events not handed to the hook because its queue was full
  bool bus_connected = false;       // the watch-ipn-bus stream is open
  std::map<std::string, std::uint64_t> events;  // by kind
};

struct MetricsInput {
  const Snapshot* snapshot = nullptr;
  const std::vector<ExpectationResult>* expectations = nullptr;
  bool expectations_configured = false;  // --fleet given
  bool healthy = false;
  const MonitorCounters* counters = nullptr;
  TimePoint now{};
};

// Families (all gauges unless noted):
//   tsfleet_daemon_up, tsfleet_healthy, tsfleet_backend_state{state} (1 for the current state),
//   tsfleet_health_warnings, tsfleet_self_key_expiry_seconds,
//   tsfleet_peers{path} (count per path), tsfleet_peers_online,
//   tsfleet_peer_online{peer,id}, tsfleet_peer_path{peer,id,path} (1, the current path),
//   tsfleet_peer_rx_bytes_total / tsfleet_peer_tx_bytes_total{peer,id} (counters),
//   tsfleet_peer_key_expiry_seconds{peer,id} (negative once expired; absent without expiry),
//   tsfleet_expectation_met{host,check} (with --fleet),
//   tsfleet_monitor_ticks_total, _tick_failures_total, _restarts_total, _restart_failures_total,
//   _hook_runs_total, _hook_failures_total, _hook_dropped_total, _events_total{kind} (counters),
//   tsfleet_monitor_bus_connected, tsfleet_monitor_last_tick_timestamp_seconds,
//   and the daemon's own usermetrics families (tailscaled_*) passed through.
std::string render_metrics(const MetricsInput& in);

}  // namespace tsfleet::monitor
