// Monitor's tick with a fake daemon, a fake clock and a fake process runner: the verdict, the
// metrics a scrape sees, alert hooks and remediation.
#include <catch2/catch.hpp>
#include <mutex>

#include "support/helpers.h"
#include "tsfleet/error.h"
#include "tsfleet/monitor/monitor.h"
#include "tsfleet/monitor/prometheus.h"

using namespace tsfleet::monitor;
using namespace tsfleet::localapi;
using namespace std::chrono;
using tsfleet::Error;
using tsfleet::ErrorCategory;

namespace {

const TimePoint kT0 = *parse_rfc3339("2026-12-01T12:00:00Z");

class FakeApi final : public LocalApi {
 public:
  std::optional<Status> next;  // nullopt: unreachable
  std::string metrics =
      "# TYPE tailscaled_health_messages gauge\ntailscaled_health_messages{type=\"warning\"} 0\n";
  Status status(const CallOptions&) override {
    if (!next)
      throw Error(ErrorCategory::daemon,
                  "Failed to connect to local Tailscale daemon; is tailscaled running?");
    return *next;
  }
  Status status_without_peers(const CallOptions& o) override { return status(o); }
  Prefs prefs(const CallOptions&) override { return {}; }
  Prefs patch_prefs(const PrefsPatch&, const CallOptions&) override { return {}; }
  PingResult ping(std::string_view, PingType, int, const CallOptions&) override { return {}; }
  WhoIs whois(std::string_view, const CallOptions&) override { return {}; }
  DerpMap derp_map(const CallOptions&) override { return {}; }
  std::string check_ip_forwarding(const CallOptions&) override { return ""; }
  std::string user_metrics(const CallOptions&) override { return metrics; }
  void watch_ipn_bus(const NotifyCallback&, const WatchOptions&) override {}
};

class RecordingRunner final : public tsfleet::sys::ProcessRunner {
 public:
  std::mutex mu;
  std::vector<tsfleet::sys::ProcessRequest> calls;
  int exit_code = 0;
  tsfleet::sys::ProcessResult run(const tsfleet::sys::ProcessRequest& r) override {
    std::lock_guard lk(mu);
    calls.push_back(r);
    tsfleet::sys::ProcessResult res;
    res.exit_code = exit_code;
    return res;
  }
};

PeerStatus peer(const std::string& name, const std::string& cur_addr) {
  PeerStatus p;
  p.id = "n" + name;
  p.public_key = "nodekey:" + name;
  p.host_name = name;
  p.dns_name = name + ".tail1234.ts.net.";
  p.tailscale_ips = {"100.64.0.5"};
  p.cur_addr = cur_addr;
  p.relay = "fra";
  p.online = true;
  p.active = true;
  p.rx_bytes = 1024;
  p.tx_bytes = 2048;
  p.key_expiry = "2027-05-30T10:00:00Z";
  return p;
}

Status running_status() {
  Status s;
  s.version = "1.102.3";
  s.backend_state_text = "Running";
  s.backend_state = BackendState::running;
  s.has_self = true;
  s.self = peer("gw1", "");
  s.peer["nodekey:web1"] = peer("web1", "192.0.2.7:41641");
  s.peer["nodekey:p620"] = peer("p620", "");
  return s;
}

// The value of the series `name{labels}` in the exposition text, or nullopt.
std::optional<double> value_of(const std::string& text, const std::string& name,
                               const prom::Labels& labels = {}) {
  auto r = prom::parse_text(text);
  REQUIRE(r.errors.empty());
  for (const auto& f : r.families)
    for (const auto& s : f.samples)
      if (s.name == name && s.labels == labels) return s.value;
  return std::nullopt;
}

}  // namespace

TEST_CASE("a tick: verdict, events and metrics", "[monitor][loop]") {
  FakeApi api;
  api.next = running_status();
  ManualClock clock(kT0);
  std::vector<Event> seen;
  MonitorOptions o;
  o.expected = {{"p620", "p620", true}, {"razer", "razer", false}};
  o.expectations_configured = true;
  Monitor m(o, api, clock, [&](const Event& e) { seen.push_back(e); });

  TickResult r = m.tick();
  CHECK(r.daemon_up);
  CHECK_FALSE(r.healthy);  // p620 is relayed and razer is missing
  std::string text = m.metrics_text();
  CHECK(value_of(text, "tsfleet_daemon_up") == 1);
  CHECK(value_of(text, "tsfleet_healthy") == 0);
  CHECK(value_of(text, "tsfleet_backend_state", {{"state", "Running"}}) == 1);
  CHECK(value_of(text, "tsfleet_backend_state", {{"state", "Stopped"}}) == 0);
  CHECK(value_of(text, "tsfleet_peers", {{"path", "direct"}}) == 1);
  CHECK(value_of(text, "tsfleet_peers", {{"path", "derp"}}) == 1);
  CHECK(value_of(text, "tsfleet_peer_path",
                 {{"peer", "web1"}, {"id", "nweb1"}, {"path", "direct"}}) == 1);
  CHECK(value_of(text, "tsfleet_peer_rx_bytes_total", {{"peer", "web1"}, {"id", "nweb1"}}) == 1024);
  CHECK(value_of(text, "tsfleet_expectation_met", {{"host", "p620"}, {"check", "present"}}) == 1);
  CHECK(value_of(text, "tsfleet_expectation_met", {{"host", "p620"}, {"check", "direct"}}) == 0);
  CHECK(value_of(text, "tsfleet_expectation_met", {{"host", "razer"}, {"check", "present"}}) == 0);
  // 2027-05-30T10:00Z minus 2026-12-01T12:00Z
  CHECK(value_of(text, "tsfleet_peer_key_expiry_seconds", {{"peer", "web1"}, {"id", "nweb1"}}) ==
        15544800);
  CHECK(value_of(text, "tailscaled_health_messages", {{"type", "warning"}}) == 0);
  CHECK(value_of(text, "tsfleet_monitor_events_total", {{"kind", "expectation"}}) == 3);

  REQUIRE_FALSE(seen.empty());
  CHECK(seen[0].kind == "monitor_started");
  CHECK(seen[0].time == kT0);

  // p620 goes direct: the expectation is met again, and the node is healthy.
  api.next->peer["nodekey:p620"].cur_addr = "192.0.2.11:41641";
  api.next->peer.erase("nodekey:web1");
  o.expected.pop_back();
  Monitor m2(o, api, clock, nullptr);
  CHECK(m2.tick().healthy);
}

TEST_CASE("a tick against an unreachable daemon", "[monitor][loop]") {
  FakeApi api;
  ManualClock clock(kT0);
  tsfleet::testing::TempDir dir;
  MonitorOptions o;
  o.textfile = dir / "tsfleet.prom";
  Monitor m(o, api, clock, nullptr);
  TickResult r = m.tick();
  CHECK_FALSE(r.daemon_up);
  REQUIRE(r.events.size() == 1);
  CHECK(r.events[0].kind == "daemon_unreachable");
  std::string text = tsfleet::testing::read_file(dir / "tsfleet.prom");
  CHECK(value_of(text, "tsfleet_daemon_up") == 0);
  CHECK(value_of(text, "tsfleet_monitor_tick_failures_total") == 1);
  CHECK(value_of(text, "tsfleet_backend_state", {{"state", "Running"}}) == 0);
}

TEST_CASE("every event goes to the hook as one JSON document on stdin", "[monitor][loop][hooks]") {
  FakeApi api;
  api.next = running_status();
  ManualClock clock(kT0);
  RecordingRunner runner;
  HookRunner hooks(runner, HookOptions{{"/etc/tsfleet/alert", "--page"}, seconds(3), 8});
  Monitor m(MonitorOptions{}, api, clock, nullptr, &hooks);
  m.tick();
  api.next.reset();
  m.tick();
  REQUIRE(hooks.wait_idle(seconds(10)));
  std::lock_guard lk(runner.mu);
  REQUIRE(runner.calls.size() == 2);
  CHECK(runner.calls[0].argv == std::vector<std::string>{"/etc/tsfleet/alert", "--page"});
  CHECK(runner.calls[0].timeout == seconds(3));
  auto j = nlohmann::json::parse(runner.calls[1].stdin_data);
  CHECK(j["kind"] == "daemon_unreachable");
  CHECK(j["schema_version"] == 1);
  CHECK(j["host"] == "gw1");
}

TEST_CASE("the hook queue is bounded: a stuck hook drops events instead of growing",
          "[monitor][hooks]") {
  struct Blocking final : tsfleet::sys::ProcessRunner {
    std::mutex mu;
    std::condition_variable cv;
    bool release = false;
    tsfleet::sys::ProcessResult run(const tsfleet::sys::ProcessRequest&) override {
      std::unique_lock lk(mu);
      cv.wait(lk, [&] { return release; });
      tsfleet::sys::ProcessResult ok;
      ok.exit_code = 0;
      return ok;
    }
  } runner;
  {
    HookRunner hooks(runner, HookOptions{{"hook"}, seconds(1), 4});
    int accepted = 0;
    for (int i = 0; i < 20; ++i) accepted += hooks.submit("{}") ? 1 : 0;
    CHECK(accepted <= 5);  // 4 queued, perhaps 1 already taken by the worker
    CHECK(hooks.dropped() == static_cast<std::uint64_t>(20 - accepted));
    {
      std::lock_guard lk(runner.mu);
      runner.release = true;
    }
    runner.cv.notify_all();
  }
}

TEST_CASE("remediation: after N failed ticks, backoff doubling, a cap, reset when healthy",
          "[monitor][remediation]") {
  RecordingRunner runner;
  RemediationOptions o;
  o.restart_after = 2;
  o.max_restarts = 2;
  o.systemctl = "/fake/systemctl";
  Remediator r(runner, o);
  std::vector<std::string> log;
  for (int i = 0; i < 12; ++i) {
    auto a = r.on_tick(true);
    log.push_back(!a                                              ? "-"
                  : a->kind == RemediationAction::Kind::restarted ? "R"
                  : a->kind == RemediationAction::Kind::gave_up   ? "G"
                                                                  : "F");
  }
  // 2 failures -> restart 1; 4 more -> restart 2; 8 more -> gave up (once).
  CHECK(log ==
        std::vector<std::string>{"-", "R", "-", "-", "-", "R", "-", "-", "-", "-", "-", "-"});
  for (int i = 0; i < 2; ++i) r.on_tick(true);
  CHECK(runner.calls.size() == 2);
  CHECK(runner.calls[0].argv ==
        std::vector<std::string>{"/fake/systemctl", "restart", "tailscaled.service"});

  RemediationOptions once;
  once.restart_after = 1;
  once.max_restarts = 1;
  RecordingRunner runner2;
  runner2.exit_code = 1;
  Remediator r2(runner2, once);
  auto first = r2.on_tick(true);
  REQUIRE(first);
  CHECK(first->kind == RemediationAction::Kind::restart_failed);
  auto gave_up = r2.on_tick(true);
  CHECK_FALSE(gave_up);  // backoff: 2 failures needed before the next decision
  gave_up = r2.on_tick(true);
  REQUIRE(gave_up);
  CHECK(gave_up->kind == RemediationAction::Kind::gave_up);
  CHECK_FALSE(r2.on_tick(true));
  CHECK_FALSE(r2.on_tick(false));  // healthy: the episode ends
  auto again = r2.on_tick(true);
  REQUIRE(again);
  CHECK(again->kind == RemediationAction::Kind::restart_failed);
  CHECK(runner2.calls.size() == 2);
}

TEST_CASE("monitor restarts tailscaled through remediation on scheduled ticks only",
          "[monitor][loop][remediation]") {
  FakeApi api;  // unreachable
  ManualClock clock(kT0);
  RecordingRunner runner;
  RemediationOptions ro;
  ro.restart_after = 1;
  Remediator rem(runner, ro);
  std::vector<Event> seen;
  Monitor m(
      MonitorOptions{}, api, clock, [&](const Event& e) { seen.push_back(e); }, nullptr, &rem);
  m.tick(false);
  CHECK(runner.calls.empty());
  m.tick(true);
  REQUIRE(runner.calls.size() == 1);
  CHECK(seen.back().kind == "restart");
  CHECK(seen.back().new_value == "restarted");
  CHECK(value_of(m.metrics_text(), "tsfleet_monitor_restarts_total") == 1);
}
