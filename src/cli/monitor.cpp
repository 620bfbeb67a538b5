// tsfleet monitor: continuous health over the LocalAPI (state changes as text or JSON lines,
// Prometheus metrics, alert hooks, optional restart of tailscaled). The logic is in
// libtsfleet's monitor/; this file maps options onto it.
#include "tsfleet/monitor/monitor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <sstream>
#include <stop_token>
#include <string>
#include <vector>

#include "common.h"
#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/localapi/client.h"
#include "tsfleet/monitor/clock.h"
#include "tsfleet/monitor/hooks.h"
#include "tsfleet/monitor/metrics_server.h"
#include "tsfleet/monitor/remediation.h"
#include "tsfleet/monitor/signals.h"
#include "tsfleet/plan.h"
#include "tsfleet/sys/process.h"
#include "tsfleet/time_text.h"
#include "verbs.h"

namespace tsfleet::cli {

struct MonitorCliOptions {
  std::optional<std::string> fleet;
  std::optional<std::string> socket;
  std::string interval = "30s";
  std::string timeout = "10s";
  std::string format = "text";
  bool json = false;
  std::optional<std::string> listen;
  std::optional<std::string> textfile;
  std::string expiry_warning = "14d";
  std::optional<std::string> on_event;
  std::string hook_timeout = "10s";
  int restart_after = 0;
  int max_restarts = 3;
  std::string systemctl = "systemctl";
  bool once = false;
};

namespace {

std::chrono::milliseconds duration_option(const char* name, const std::string& value,
                                          bool allow_zero = false) {
  auto d = parse_duration(value);
  if (!d || (!allow_zero && d->count() == 0))
    throw Error(
        ErrorCategory::usage,
        fmt::format("{} {}: not a duration; write e.g. 30s, 500ms, 5m, 1h30m or 14d", name, value));
  return *d;
}

std::vector<std::string> split_words(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

int run_monitor(const MonitorCliOptions& o) {
  monitor::MonitorOptions mo;
  mo.interval = duration_option("--interval", o.interval);
  mo.call_timeout = duration_option("--timeout", o.timeout);
  mo.tracker.expiry_warning = duration_option("--expiry-warning", o.expiry_warning, true);
  auto hook_timeout = duration_option("--hook-timeout", o.hook_timeout);
  bool json = o.json || o.format == "json";
  if (o.format != "text" && o.format != "json")
    throw Error(ErrorCategory::usage, fmt::format("--format {}: write text or json", o.format));
  if (o.once && o.listen)
    throw Error(ErrorCategory::usage,
                "--listen and --once do not go together: --once exits after one tick");
  if (o.restart_after < 0 || o.max_restarts < 0)
    throw Error(ErrorCategory::usage, "--restart-after and --max-restarts must be 0 or more");
  std::optional<monitor::ListenAddress> listen;
  if (o.listen) listen = monitor::parse_listen_address(*o.listen);
  if (o.textfile) mo.textfile = *o.textfile;

  // Expectations only from a fleet file the user named: the embedded example fleet would make
  // every real node look unhealthy.
  if (o.fleet) {
    Fleet fleet = select_fleet(o.fleet);
    mo.expected = monitor::expected_hosts(plan(fleet));
    mo.expectations_configured = true;
  }

  localapi::ClientOptions co;
  if (o.socket) co.socket = *o.socket;
  co.timeout = mo.call_timeout;
  localapi::LocalApiClient api(co);
  localapi::LocalApiClient watch_api(co);  // its own client: the watcher runs on another thread

  sys::SystemProcessRunner runner;
  std::unique_ptr<monitor::HookRunner> hooks;
  if (o.on_event) {
    monitor::HookOptions ho;
    ho.argv = split_words(*o.on_event);
    if (ho.argv.empty())
      throw Error(ErrorCategory::usage,
                  "--on-event: give a command, e.g. --on-event /etc/tsfleet/alert");
    if (!sys::program_on_path(ho.argv.front()))
      throw Error(
          ErrorCategory::usage,
          fmt::format("--on-event {}: not an executable (or not on PATH)", ho.argv.front()));
    ho.timeout = hook_timeout;
    hooks = std::make_unique<monitor::HookRunner>(runner, ho);
  }
  std::unique_ptr<monitor::Remediator> remediator;
  if (o.restart_after > 0) {
    monitor::RemediationOptions ro;
    ro.restart_after = o.restart_after;
    ro.max_restarts = o.max_restarts;
    ro.systemctl = o.systemctl;
    remediator = std::make_unique<monitor::Remediator>(runner, ro);
  }

  monitor::SystemClock clock;
  auto sink = [json](const monitor::Event& e) {
    print_out(json ? monitor::to_json_line(e) : monitor::to_text_line(e));
    std::fflush(stdout);
  };
  monitor::Monitor mon(mo, api, clock, sink, hooks.get(), remediator.get());

  if (o.once) {
    monitor::TickResult r = mon.tick(true);
    if (hooks && !hooks->wait_idle(hook_timeout + std::chrono::seconds(1)))
      spdlog::warn("alert hook still running; exiting without waiting for it");
    if (!r.daemon_up) return exit_code_for(ErrorCategory::daemon);
    return r.healthy ? exit_code::ok : exit_code::findings;
  }

  std::stop_source stop;
  monitor::StopOnSignals signals(stop);
  std::unique_ptr<monitor::MetricsServer> server;
  if (listen) {
    server =
        std::make_unique<monitor::MetricsServer>(*listen, [&mon] { return mon.metrics_text(); });
    spdlog::info(
        "serving metrics on http://{}:{}/metrics",
        listen->host.find(':') != std::string::npos ? "[" + listen->host + "]" : listen->host,
        server->port());
  }
  mon.run(stop.get_token(), &watch_api);
  if (server) server->stop();
  if (hooks) hooks->wait_idle(std::chrono::seconds(2));
  if (int sig = signals.signal_received()) spdlog::debug("stopped by signal {}", sig);
  return exit_code::ok;
}

}  // namespace

void setup_monitor(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<MonitorCliOptions>();
  add_fleet_option(sub, o->fleet);
  sub.add_option("--socket", o->socket,
                 "tailscaled's LocalAPI socket (default: /var/run/tailscale/tailscaled.sock, then "
                 "/run/tailscale/tailscaled.sock)")
      ->type_name("PATH");
  sub.add_option("--interval", o->interval, "Time between polls, each ±10% at random (default 30s)")
      ->type_name("DURATION");
  sub.add_option("--timeout", o->timeout, "Deadline of each LocalAPI call (default 10s)")
      ->type_name("DURATION");
  sub.add_option("--format", o->format,
                 "Events on stdout as `text` lines or `json` lines (default text)")
      ->type_name("text|json");
  sub.add_flag("--json", o->json, "Same as --format json");
  sub.add_option(
         "--listen", o->listen,
         "Serve Prometheus metrics at http://ADDR:PORT/metrics (e.g. 127.0.0.1:9101; port 0: any)")
      ->type_name("ADDR:PORT");
  sub.add_option("--textfile", o->textfile,
                 "Write the metrics to this file after every poll, atomically (node_exporter "
                 "textfile collector)")
      ->type_name("PATH");
  sub.add_option("--expiry-warning", o->expiry_warning,
                 "Report keys that expire within this time (default 14d)")
      ->type_name("DURATION");
  sub.add_option("--on-event", o->on_event,
                 "Run this command for each event with the event's JSON on stdin (words split on "
                 "spaces, no shell)")
      ->type_name("CMD");
  sub.add_option("--hook-timeout", o->hook_timeout,
                 "Kill an --on-event command that runs longer than this (default 10s)")
      ->type_name("DURATION");
  sub.add_option("--restart-after", o->restart_after,
                 "Restart tailscaled after N consecutive failed polls (daemon unreachable or not "
                 "Running); 0: never (default)")
      ->type_name("N");
  sub.add_option("--max-restarts", o->max_restarts,
                 "At most N restarts until tailscaled is healthy again (default 3)")
      ->type_name("N");
  sub.add_option("--systemctl", o->systemctl,
                 "The systemctl to run for restarts (default: systemctl on PATH)")
      ->type_name("PATH");
  sub.add_flag(
      "--once", o->once,
      "Poll once, print what is wrong, and exit: 0 healthy, 1 unhealthy, 4 daemon unreachable");
  run = [o] { return run_monitor(*o); };
}

}  // namespace tsfleet::cli
