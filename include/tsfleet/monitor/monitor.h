#pragma once
// `tsfleet monitor`: a loop over the LocalAPI (status and usermetrics every interval ± jitter),
// the IPN bus for immediate state changes, events to a sink and to alert hooks, Prometheus
// metrics (text kept for the HTTP server, optionally written to a node_exporter textfile) and
// optional remediation.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <stop_token>
#include <string>
#include <vector>

#include "tsfleet/localapi/client.h"
#include "tsfleet/monitor/clock.h"
#include "tsfleet/monitor/event.h"
#include "tsfleet/monitor/expectations.h"
#include "tsfleet/monitor/hooks.h"
#include "tsfleet/monitor/metrics.h"
#include "tsfleet/monitor/remediation.h"
#include "tsfleet/monitor/snapshot.h"
#include "tsfleet/monitor/tracker.h"

namespace tsfleet::monitor {

struct MonitorOptions {
  std::chrono::milliseconds interval{30'000};
  double jitter = 0.1;  // each wait is interval * (1 ± jitter), uniformly
  TrackerOptions tracker;
  std::vector<ExpectedHost> expected;
  bool expectations_configured = false;
  std::optional<std::filesystem::path> textfile;  // written atomically after every tick
  std::uint64_t mask = localapi::notify_mask::monitor;
  std::chrono::milliseconds call_timeout{10'000};   // status / usermetrics deadline
  std::chrono::milliseconds reconnect_min{200};     // watch-ipn-bus backoff: first wait
  std::chrono::milliseconds reconnect_max{10'000};  // and the cap (doubling in between)
  std::chrono::milliseconds min_tick_gap{100};      // bus-triggered ticks at most this often
  std::size_t bus_queue_capacity = 64;              // bus updates waiting for the loop
};

using EventSink = std::function<void(const Event&)>;

struct TickResult {
  bool daemon_up = false;
  bool healthy = false;
  std::vector<Event> events;
};

class Monitor {
 public:
  // `hooks` and `remediator` may be null (no --on-event, no --restart-after).
  Monitor(MonitorOptions options, localapi::LocalApi& api, const Clock& clock, EventSink sink,
          HookRunner* hooks = nullptr, Remediator* remediator = nullptr);

  // One poll: status (+ usermetrics), events, metrics text, textfile; `scheduled` ticks also
  // drive remediation. Never throws for daemon trouble (that is a daemon_unreachable event);
  // throws Error(io) when the textfile cannot be written.
  TickResult tick(bool scheduled = true);

  // Runs until `stop` is requested (the first tick's errors propagate, e.g. an unwritable
  // textfile; later ones are logged): a scheduled tick now and then every interval ± jitter; when
  // `watch_api` is given, a watcher thread follows watch-ipn-bus (reconnecting with backoff while
  // the daemon is away), reports state changes at once and asks for an early tick on State,
  // Health or a lost stream. Emits monitor_stopped last.
  void run(std::stop_token stop, localapi::LocalApi* watch_api);

  // The metrics of the last tick (thread-safe; what GET /metrics serves).
  std::string metrics_text() const;
  MonitorCounters counters() const;

 private:
  struct BusUpdate {
    std::optional<localapi::BackendState> state;
    bool health = false;
    bool lost = false;
  };
  void emit(std::vector<Event>& events);
  void guarded_tick(bool scheduled);
  void watch(std::stop_token stop, localapi::LocalApi& api);
  void push_bus(BusUpdate u);
  std::chrono::milliseconds next_wait();

  MonitorOptions options_;
  localapi::LocalApi& api_;
  const Clock& clock_;
  EventSink sink_;
  HookRunner* hooks_;
  Remediator* remediator_;
  Tracker tracker_;
  std::mt19937 rng_;

  mutable std::mutex mu_;  // guards metrics_, counters_, bus_
  std::condition_variable_any cv_;
  std::string metrics_;
  MonitorCounters counters_;
  std::deque<BusUpdate> bus_;
  std::uint64_t bus_dropped_ = 0;
};

}  // namespace tsfleet::monitor
