#include "tsfleet/monitor/monitor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "tsfleet/error.h"
#include "tsfleet/redact.h"
#include "tsfleet/sys/file_io.h"

namespace tsfleet::monitor {

namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

Event remediation_event(const RemediationAction& a, const std::string& host, TimePoint t) {
  Event e;
  e.time = t;
  e.host = host;
  switch (a.kind) {
    case RemediationAction::Kind::restarted:
      e.kind = std::string(event_kind::restart);
      e.severity = EventSeverity::warning;
      e.new_value = "restarted";
      break;
    case RemediationAction::Kind::restart_failed:
      e.kind = std::string(event_kind::restart);
      e.severity = EventSeverity::error;
      e.new_value = "failed";
      break;
    case RemediationAction::Kind::gave_up:
      e.kind = std::string(event_kind::restart_gave_up);
      e.severity = EventSeverity::error;
      e.new_value = "gave-up";
      break;
  }
  e.old_value = std::to_string(a.attempt);
  e.message = a.detail;
  return e;
}

}  // namespace

Monitor::Monitor(MonitorOptions options, localapi::LocalApi& api, const Clock& clock,
                 EventSink sink, HookRunner* hooks, Remediator* remediator)
    : options_(std::move(options)),
      api_(api),
      clock_(clock),
      sink_(std::move(sink)),
      hooks_(hooks),
      remediator_(remediator),
      tracker_(options_.tracker),
      rng_(std::random_device{}()) {
  // Before the first tick, /metrics already says the daemon is not (yet) seen as up.
  Snapshot none;
  none.taken = clock_.now();
  std::lock_guard lk(mu_);
  metrics_ = render_metrics(
      {&none, nullptr, options_.expectations_configured, false, &counters_, none.taken});
}

void Monitor::emit(std::vector<Event>& events) {
  for (auto& e : events) {
    {
      std::lock_guard lk(mu_);
      counters_.events[e.kind]++;
    }
    if (sink_) sink_(e);
    if (hooks_) hooks_->submit(to_json_line(e));
  }
}

TickResult Monitor::tick(bool scheduled) {
  localapi::CallOptions call;
  call.timeout = options_.call_timeout;
  Snapshot s;
  try {
    localapi::Status st = api_.status(call);
    s = snapshot_from_status(st, clock_.now());
    try {
      s.usermetrics = api_.user_metrics(call);
    } catch (const Error& e) {
      // Older daemons lack usermetrics; status alone decides whether the daemon is up.
      spdlog::debug("usermetrics: {}", e.what());
    }
  } catch (const Error& e) {
    s = unreachable_snapshot(e.what(), clock_.now());
    spdlog::debug("tick: {}", e.what());
  }
  std::vector<ExpectationResult> ex = evaluate_expectations(options_.expected, s);
  bool healthy = is_healthy(s, ex);

  TickResult result;
  result.daemon_up = s.daemon_up;
  result.healthy = healthy;
  result.events = tracker_.observe(s, ex);

  if (scheduled && remediator_) {
    bool failed = !s.daemon_up || s.state != localapi::BackendState::running;
    if (auto action = remediator_->on_tick(failed)) {
      {
        std::lock_guard lk(mu_);
        if (action->kind != RemediationAction::Kind::gave_up) ++counters_.restarts;
        if (action->kind == RemediationAction::Kind::restart_failed) ++counters_.restart_failures;
      }
      result.events.push_back(remediation_event(*action, tracker_.host(), clock_.now()));
    }
  }
  emit(result.events);

  std::string text;
  {
    std::lock_guard lk(mu_);
    ++counters_.ticks;
    if (!s.daemon_up) ++counters_.tick_failures;
    if (hooks_) {
      counters_.hook_runs = hooks_->runs();
      counters_.hook_failures = hooks_->failures();
      counters_.hooks_dropped = hooks_->dropped();
    }
    metrics_ =
        render_metrics({&s, &ex, options_.expectations_configured, healthy, &counters_, s.taken});
    if (options_.textfile) text = metrics_;
  }
  if (options_.textfile) sys::atomic_write_file(*options_.textfile, text);
  return result;
}

std::string Monitor::metrics_text() const {
  std::lock_guard lk(mu_);
  return metrics_;
}

MonitorCounters Monitor::counters() const {
  std::lock_guard lk(mu_);
  return counters_;
}

void Monitor::push_bus(BusUpdate u) {
  {
    std::lock_guard lk(mu_);
    if (bus_.size() >= options_.bus_queue_capacity) {
      bus_.pop_front();  // the oldest matters least: every update also asks for a fresh tick
      ++bus_dropped_;
    }
    bus_.push_back(u);
  }
  cv_.notify_all();
}

void Monitor::watch(std::stop_token stop, localapi::LocalApi& api) {
  milliseconds backoff = options_.reconnect_min;
  while (!stop.stop_requested()) {
    bool got_any = false;
    try {
      localapi::WatchOptions wo;
      wo.mask = options_.mask;
      wo.stop = stop;
      wo.connect_timeout = options_.call_timeout;
      api.watch_ipn_bus(
          [&](const localapi::Notify& n) {
            if (!got_any) {
              got_any = true;
              backoff = options_.reconnect_min;
              std::lock_guard lk(mu_);
              counters_.bus_connected = true;
            }
            BusUpdate u;
            u.state = n.state;
            u.health = n.health.has_value();
            if (u.state || u.health) push_bus(u);
            return !stop.stop_requested();
          },
          wo);
    } catch (const Error& e) {
      spdlog::debug("watch-ipn-bus: {}", e.what());
    } catch (const std::exception& e) {
      spdlog::warn("watch-ipn-bus: {}", e.what());
    }
    bool was_connected;
    {
      std::lock_guard lk(mu_);
      was_connected = counters_.bus_connected;
      counters_.bus_connected = false;
    }
    if (stop.stop_requested()) return;
    if (was_connected) push_bus(BusUpdate{std::nullopt, false, true});
    // Wait before reconnecting (interruptible by stop), doubling up to the cap.
    std::unique_lock lk(mu_);
    cv_.wait_for(lk, stop, backoff, [] { return false; });
    backoff = std::min(backoff * 2, options_.reconnect_max);
  }
}

milliseconds Monitor::next_wait() {
  double j = std::clamp(options_.jitter, 0.0, 0.9);
  std::uniform_real_distribution<double> d(1.0 - j, 1.0 + j);
  auto ms = static_cast<long long>(static_cast<double>(options_.interval.count()) * d(rng_));
  return milliseconds(std::max(1LL, ms));
}

void Monitor::guarded_tick(bool scheduled) {
  try {
    tick(scheduled);
  } catch (const Error& e) {
    // A full disk must not end the monitor; the first tick (in run) already proved the path works.
    spdlog::warn("{}", e.what());
  }
}

void Monitor::run(std::stop_token stop, localapi::LocalApi* watch_api) {
  std::jthread watcher;
  if (watch_api)
    watcher = std::jthread([this, watch_api](std::stop_token st) { watch(st, *watch_api); });
  // The watcher stops with us: its own token is requested when `stop` is.
  std::stop_callback stop_watcher(stop, [&watcher] { watcher.request_stop(); });

  tick(true);
  auto next = SteadyClock::now() + next_wait();
  auto last_tick = SteadyClock::now();
  while (!stop.stop_requested()) {
    std::deque<BusUpdate> updates;
    {
      std::unique_lock lk(mu_);
      cv_.wait_until(lk, stop, next, [&] { return !bus_.empty(); });
      if (stop.stop_requested()) break;
      updates.swap(bus_);
    }
    bool want_tick = false;
    for (const auto& u : updates) {
      if (u.state) {
        auto events = tracker_.observe_state(*u.state, clock_.now());
        emit(events);
      }
      want_tick = true;
    }
    auto now = SteadyClock::now();
    if (now >= next) {
      guarded_tick(true);
      last_tick = SteadyClock::now();
      next = last_tick + next_wait();
    } else if (want_tick) {
      // Refresh soon (not at once: a burst of bus messages gives one tick).
      auto at = last_tick + options_.min_tick_gap;
      if (now < at) {
        std::unique_lock lk(mu_);
        cv_.wait_until(lk, stop, at, [] { return false; });
        if (stop.stop_requested()) break;
      }
      guarded_tick(false);
      last_tick = SteadyClock::now();
    }
  }
  watcher.request_stop();
  if (watcher.joinable()) watcher.join();
  Event e;
  e.kind = std::string(event_kind::stopped);
  e.time = clock_.now();
  e.host = tracker_.host();
  e.message = "monitor stopped";
  std::vector<Event> last{e};
  emit(last);
}

}  // namespace tsfleet::monitor
