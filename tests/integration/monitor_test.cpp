// `tsfleet monitor` as a user runs it: the real binary against the real fake-tailscaled, metrics
// over real HTTP checked by the real promtool, faults (restart, hang, bad JSON), alert hooks and
// a fake systemctl, SIGTERM. Waits are for events with a deadline; nothing asserts a duration.
#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <thread>

#include "support/fake_daemon.h"
#include "support/helpers.h"

extern char** environ;

using namespace std::chrono_literals;
using nlohmann::json;
using tsfleet::testing::FakeDaemon;
using tsfleet::testing::FakeDaemonOptions;
using tsfleet::testing::read_file;
using tsfleet::testing::BackgroundProcess;
using tsfleet::testing::run_process;
using tsfleet::testing::run_tsfleet;
using tsfleet::testing::scenario;
using tsfleet::testing::TempDir;
using tsfleet::testing::write_file;

namespace {

std::string file_or_empty(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// `tsfleet ARGS` running in the background, stdout and stderr going to files in `dir`.
class Monitor {
 public:
  Monitor(const std::filesystem::path& dir, const std::vector<std::string>& args)
      : process_(with_binary(args), dir / "monitor.out", dir / "monitor.err") {}
  static std::vector<std::string> with_binary(const std::vector<std::string>& args) {
    std::vector<std::string> argv{TSFLEET_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }
  std::string out() const { return process_.log(); }
  std::string err() const { return process_.err_log(); }
  pid_t pid() const { return process_.pid(); }

  // The JSON events on stdout so far.
  std::vector<json> events() const {
    std::vector<json> ev;
    std::istringstream in(out());
    for (std::string line; std::getline(in, line);) {
      auto j = json::parse(line, nullptr, false);
      if (!j.is_discarded()) ev.push_back(j);
    }
    return ev;
  }
  // Waits (up to `limit`) for an event matching `pred` after the first `skip` events; returns its
  // index, or fails the test with what was seen.
  std::size_t wait_event(const std::function<bool(const json&)>& pred, std::size_t skip = 0,
                         std::chrono::seconds limit = 30s) const {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
      auto ev = events();
      for (std::size_t i = skip; i < ev.size(); ++i)
        if (pred(ev[i])) return i;
      std::this_thread::sleep_for(50ms);
    }
    FAIL("event not seen; stdout:\n" << out() << "\nstderr:\n" << err());
    return 0;
  }
  std::size_t wait_kind(const std::string& kind, std::size_t skip = 0) const {
    return wait_event([&](const json& e) { return e.value("kind", "") == kind; }, skip);
  }
  // The metrics port from "serving metrics on http://127.0.0.1:PORT/metrics".
  int wait_port() const {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    std::regex re("http://127\\.0\\.0\\.1:([0-9]+)/metrics");
    while (std::chrono::steady_clock::now() < deadline) {
      std::smatch m;
      std::string e = err();
      if (std::regex_search(e, m, re)) return std::stoi(m[1]);
      std::this_thread::sleep_for(50ms);
    }
    FAIL("no metrics port announced; stderr:\n" << err());
    return 0;
  }
  // Sends `sig` and waits for the exit code (the test's own timeout is the safety net).
  int stop(int sig = SIGTERM) { return process_.stop(sig); }

 private:
  BackgroundProcess process_;
};

json load_scenario(const std::string& name) { return json::parse(read_file(scenario(name))); }

// The scenario's peer map with `change` applied to the peer whose HostName is `host`.
json peers_with(json peers, const std::string& host, const json& change) {
  for (auto& [k, p] : peers.items())
    if (p.value("HostName", "") == host) p.update(change);
  return peers;
}

std::string fleet_file(const TempDir& dir, bool with_missing_host) {
  json fleet = {{"schema_version", 1},
                {"nixos_release", "25.11"},
                {"defaults", {{"auth_key", {{"sops", "tailscale_preauth"}}}}},
                {"hosts",
                 {{"gw1", {{"roles", {"client"}}}},
                  {"p620",
                   {{"roles", {"subnet-router"}},
                    {"routes", {"192.168.1.0/24"}},
                    {"lan_interface", "enp5s0"}}}}}};
  if (with_missing_host) fleet["hosts"]["razer"] = {{"roles", {"client"}}};
  auto path = dir / "tsfleet.json";
  write_file(path, fleet.dump(2));
  return path.string();
}

std::string promtool_check(const std::string& metrics) {
  auto r = run_process({"promtool", "check", "metrics"}, [&] {
    tsfleet::testing::ProcessOptions o;
    o.stdin_data = metrics;
    return o;
  }());
  return r.exit_code == 0 ? ""
                          : "promtool exit " + std::to_string(r.exit_code) + ": " + r.out + r.err;
}

std::string http_get_metrics(int port) {
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(5, 0);
  auto res = c.Get("/metrics");
  REQUIRE(res);
  REQUIRE(res->status == 200);
  CHECK(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
  return res->body;
}

}  // namespace

TEST_CASE("monitor --once: exit 0 healthy, 1 unhealthy, 4 daemon unreachable", "[monitor][cli]") {
  FakeDaemon d(scenario("monitor-fleet.json"));
  TempDir dir;
  auto ok = run_tsfleet({"monitor", "--socket", d.socket().string(), "--once", "--json"});
  CHECK(ok.exit_code == 0);
  auto first = json::parse(ok.out.substr(0, ok.out.find('\n')));
  CHECK(first["schema_version"] == 1);
  CHECK(first["kind"] == "monitor_started");
  CHECK(first["host"] == "gw1");
  CHECK(first["new"] == "Running");

  // The inventory says p620 routes (so it must be reached directly) and razer exists.
  auto fleet = fleet_file(dir, true);
  auto missing = run_tsfleet(
      {"monitor", "--socket", d.socket().string(), "--once", "--json", "--fleet", fleet});
  CHECK(missing.exit_code == 1);
  CHECK(missing.out.find(R"("kind":"expectation")") != std::string::npos);
  CHECK(missing.out.find("razer is not in the tailnet") != std::string::npos);
  auto healthy = run_tsfleet(
      {"monitor", "--socket", d.socket().string(), "--once", "--fleet", fleet_file(dir, false)});
  CHECK(healthy.exit_code == 0);

  d.control("POST", "status",
            {{"Peer", peers_with(load_scenario("monitor-fleet.json")["status"]["Peer"], "p620",
                                 {{"CurAddr", ""}})}});
  auto relayed = run_tsfleet(
      {"monitor", "--socket", d.socket().string(), "--once", "--fleet", fleet_file(dir, false)});
  CHECK(relayed.exit_code == 1);
  CHECK(relayed.out.find("p620 is relayed") != std::string::npos);

  d.set_state("Stopped");
  auto stopped = run_tsfleet({"monitor", "--socket", d.socket().string(), "--once"});
  CHECK(stopped.exit_code == 1);
  CHECK(stopped.out.find("backend_state gw1 Stopped") != std::string::npos);

  auto gone = run_tsfleet({"monitor", "--socket", (dir / "no.sock").string(), "--once", "--json"});
  CHECK(gone.exit_code == 4);
  CHECK(gone.out.find(R"("kind":"daemon_unreachable")") != std::string::npos);
}

TEST_CASE("monitor: bad options are usage errors", "[monitor][cli]") {
  for (std::vector<std::string> args : {std::vector<std::string>{"monitor", "--interval", "soon"},
                                        {"monitor", "--listen", "9101"},
                                        {"monitor", "--format", "xml"},
                                        {"monitor", "--once", "--listen", "127.0.0.1:0"},
                                        {"monitor", "--on-event", "/nonexistent/hook"}}) {
    auto r = run_tsfleet(args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find("tsfleet: error:") != std::string::npos);
  }
}

TEST_CASE("monitor: /metrics over HTTP and the textfile pass promtool, SIGTERM stops cleanly",
          "[monitor][metrics]") {
  if (!tsfleet::testing::have_program("promtool"))
    FAIL("promtool is needed (Debian package prometheus)");
  FakeDaemon d(scenario("running.json"));
  TempDir dir;
  auto textfile = dir / "node_exporter" / "tsfleet.prom";
  Monitor m(dir.path(), {"monitor", "--socket", d.socket().string(), "--interval", "200ms",
                         "--format", "json", "--listen", "127.0.0.1:0", "--textfile",
                         textfile.string(), "--fleet", fleet_file(dir, true)});
  int port = m.wait_port();
  m.wait_kind("monitor_started");

  std::string scraped = http_get_metrics(port);
  CHECK(promtool_check(scraped) == "");
  CHECK(scraped.find("tsfleet_daemon_up 1\n") != std::string::npos);
  CHECK(scraped.find(R"(tsfleet_peer_path{peer="db1",id="nDB1CNTRL",path="derp"} 1)") !=
        std::string::npos);
  CHECK(scraped.find(R"(tsfleet_peer_path{peer="edge1",id="nEDGE1CNTRL",path="peer-relay"} 1)") !=
        std::string::npos);
  CHECK(scraped.find(R"(tsfleet_expectation_met{host="razer",check="present"} 0)") !=
        std::string::npos);
  CHECK(scraped.find("tsfleet_health_warnings 1\n") != std::string::npos);
  CHECK(scraped.find("# TYPE tailscaled_inbound_bytes_total counter") != std::string::npos);

  // The textfile is rewritten every tick; each version is complete.
  for (int i = 0; i < 3; ++i) {
    std::string text = read_file(textfile);
    CHECK(promtool_check(text) == "");
    std::this_thread::sleep_for(100ms);
  }
  CHECK(!std::filesystem::exists(textfile.parent_path() / ".tsfleet.prom.tmp"));

  CHECK(m.stop(SIGTERM) == 0);
  auto ev = m.events();
  REQUIRE_FALSE(ev.empty());
  CHECK(ev.back()["kind"] == "monitor_stopped");
  CHECK(promtool_check(read_file(textfile)) == "");
  // The server is gone with the process.
  httplib::Client c("127.0.0.1", port);
  c.set_connection_timeout(1, 0);
  CHECK_FALSE(c.Get("/metrics"));
  // No temporary files left next to the textfile.
  int entries = 0;
  for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator(textfile.parent_path()))
    ++entries;
  CHECK(entries == 1);
}

TEST_CASE(
    "monitor soak: path change, peer offline, daemon restart, hang and bad JSON, then recovery",
    "[monitor][soak]") {
  FakeDaemon d(scenario("monitor-fleet.json"));
  TempDir dir;
  json peers = load_scenario("monitor-fleet.json")["status"]["Peer"];
  Monitor m(dir.path(), {"monitor", "--socket", d.socket().string(), "--interval", "200ms",
                         "--timeout", "1s", "--format", "json", "--listen", "127.0.0.1:0"});
  int port = m.wait_port();
  std::size_t at = m.wait_kind("monitor_started");

  // web1 loses its direct path: traffic now goes via DERP.
  peers = peers_with(peers, "web1", {{"CurAddr", ""}});
  d.control("POST", "status", {{"Peer", peers}});
  at = m.wait_event(
      [](const json& e) {
        return e["kind"] == "peer_path" && e["peer"] == "web1" && e["old"] == "direct" &&
               e["new"] == "derp";
      },
      at);

  // db1 goes offline.
  peers = peers_with(peers, "db1", {{"Online", false}, {"Active", false}});
  d.control("POST", "status", {{"Peer", peers}});
  at = m.wait_event([](const json& e) { return e["kind"] == "peer_offline" && e["peer"] == "db1"; },
                    at);

  // The daemon dies and comes back.
  d.control("POST", "restart", {{"down_ms", 1500}});
  at = m.wait_kind("daemon_unreachable", at);
  at = m.wait_kind("daemon_back", at);

  // status hangs: the call's deadline passes, the daemon counts as unreachable, then recovers.
  d.set_fault("status", {{"mode", "hang"}, {"count", 2}});
  at = m.wait_event(
      [](const json& e) {
        return e["kind"] == "daemon_unreachable" &&
               e["message"].get<std::string>().find("1s") != std::string::npos;
      },
      at);
  at = m.wait_kind("daemon_back", at);

  // Bad JSON from status, then good again.
  d.set_fault("status", {{"mode", "malformed"}, {"count", 3}});
  at = m.wait_kind("daemon_unreachable", at);
  at = m.wait_kind("daemon_back", at);

  // A state change on the IPN bus is reported, and so is the return to Running.
  d.set_state("Stopped");
  at = m.wait_event(
      [](const json& e) { return e["kind"] == "backend_state" && e["new"] == "Stopped"; }, at);
  d.set_state("Running");
  at = m.wait_event(
      [](const json& e) { return e["kind"] == "backend_state" && e["new"] == "Running"; }, at);

  // web1 is direct again.
  peers = peers_with(peers, "web1", {{"CurAddr", "192.0.2.7:41641"}});
  d.control("POST", "status", {{"Peer", peers}});
  at = m.wait_event([](const json& e) { return e["kind"] == "peer_path" && e["new"] == "direct"; },
                    at);

  std::string metrics = http_get_metrics(port);
  CHECK(metrics.find("tsfleet_daemon_up 1\n") != std::string::npos);
  CHECK(metrics.find(R"(tsfleet_monitor_events_total{kind="daemon_unreachable"} 3)") !=
        std::string::npos);
  CHECK(metrics.find(R"(tsfleet_backend_state{state="Running"} 1)") != std::string::npos);
  CHECK(m.stop(SIGINT) == 0);
  for (const auto& e : m.events()) {
    CHECK(e["schema_version"] == 1);
    CHECK(e.contains("time"));
  }
}

TEST_CASE(
    "monitor --on-event: a real hook gets each event as JSON on stdin, a hanging hook is killed",
    "[monitor][hooks]") {
  FakeDaemon d(scenario("monitor-fleet.json"));
  TempDir dir;
  auto record = dir / "events.jsonl";
  auto hook = dir / "hook.sh";
  write_file(hook, "#!/bin/sh\ncat >> '" + record.string() + "'\n");
  std::filesystem::permissions(hook, std::filesystem::perms::owner_all);
  Monitor m(dir.path(), {"monitor", "--socket", d.socket().string(), "--interval", "200ms",
                         "--format", "json", "--on-event", hook.string()});
  m.wait_kind("monitor_started");
  d.set_state("Stopped");
  m.wait_event([](const json& e) { return e["kind"] == "backend_state"; });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (file_or_empty(record).find("backend_state") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(50ms);
  std::istringstream lines(file_or_empty(record));
  std::vector<json> got;
  for (std::string line; std::getline(lines, line);) got.push_back(json::parse(line));
  REQUIRE(got.size() >= 2);
  CHECK(got[0]["kind"] == "monitor_started");
  CHECK(got[1]["kind"] == "backend_state");
  CHECK(got[1]["old"] == "Running");
  CHECK(got[1]["new"] == "Stopped");
  CHECK(got[1]["host"] == "gw1");
  CHECK(m.stop() == 0);

  // A hook that never finishes is killed; monitor keeps reporting and still stops on SIGTERM.
  auto stuck = dir / "stuck.sh";
  write_file(stuck, "#!/bin/sh\nexec sleep 600\n");
  std::filesystem::permissions(stuck, std::filesystem::perms::owner_all);
  Monitor m2(dir.path(),
             {"monitor", "--socket", d.socket().string(), "--interval", "200ms", "--format", "json",
              "--on-event", stuck.string(), "--hook-timeout", "300ms"});
  std::size_t at = m2.wait_kind("monitor_started");
  d.set_state("Running");
  m2.wait_event([](const json& e) { return e["kind"] == "backend_state" && e["new"] == "Running"; },
                at);
  auto until = std::chrono::steady_clock::now() + 20s;
  while (m2.err().find("was killed after 300 ms") == std::string::npos &&
         std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(50ms);
  CHECK(m2.err().find("alert hook " + stuck.string() + " was killed after 300 ms") !=
        std::string::npos);
  CHECK(m2.stop() == 0);
}

TEST_CASE("monitor --restart-after: a fake systemctl restarts tailscaled, with backoff and a cap",
          "[monitor][remediation]") {
  FakeDaemon d(scenario("monitor-fleet.json"), {.state = "Stopped"});
  TempDir dir;
  auto record = dir / "systemctl.log";
  auto systemctl = dir / "systemctl";
  write_file(systemctl, "#!/bin/sh\necho \"$@\" >> '" + record.string() + "'\n");
  std::filesystem::permissions(systemctl, std::filesystem::perms::owner_all);

  // The health timer's use: one tick, restart when not Running.
  auto once = run_tsfleet({"monitor", "--socket", d.socket().string(), "--once", "--restart-after",
                           "1", "--systemctl", systemctl.string()});
  CHECK(once.exit_code == 1);
  CHECK(read_file(record) == "restart tailscaled.service\n");
  CHECK(once.out.find("restart gw1 1 -> restarted") != std::string::npos);

  // Long-running: after 2 failed ticks, then 4 more; at most 2 restarts, then it gives up.
  std::filesystem::remove(record);
  Monitor m(dir.path(),
            {"monitor", "--socket", d.socket().string(), "--interval", "100ms", "--format", "json",
             "--restart-after", "2", "--max-restarts", "2", "--systemctl", systemctl.string()});
  m.wait_kind("restart_gave_up");
  CHECK(read_file(record) == "restart tailscaled.service\nrestart tailscaled.service\n");
  int restarts = 0;
  for (const auto& e : m.events()) restarts += e["kind"] == "restart" ? 1 : 0;
  CHECK(restarts == 2);
  CHECK(m.stop() == 0);
}
