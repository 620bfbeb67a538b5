// Which events a user sees as the tailnet changes between two ticks.
#include <catch2/catch.hpp>

#include "tsfleet/monitor/tracker.h"

using namespace tsfleet::monitor;
using tsfleet::localapi::BackendState;
using namespace std::chrono;

namespace {

const TimePoint kT0 = *parse_rfc3339("2026-12-01T12:00:00Z");

PeerView peer(const std::string& name, PeerPath path, bool online = true) {
  PeerView p;
  p.key = "nodekey:" + name;
  p.id = "n" + name;
  p.name = name;
  p.host_name = name;
  p.ip = "100.64.0.9";
  p.online = online;
  p.active = path != PeerPath::idle;
  p.path = path;
  p.endpoint = path == PeerPath::direct ? "192.0.2.7:41641" : path == PeerPath::derp ? "fra" : "";
  p.key_expiry = kT0 + hours(24 * 200);
  return p;
}

Snapshot running(std::vector<PeerView> peers, TimePoint t = kT0) {
  Snapshot s;
  s.taken = t;
  s.daemon_up = true;
  s.state = BackendState::running;
  s.state_text = "Running";
  s.version = "1.102.3";
  s.self = peer("gw1", PeerPath::idle);
  s.peers = std::move(peers);
  return s;
}

std::vector<std::string> kinds(const std::vector<Event>& events) {
  std::vector<std::string> k;
  for (const auto& e : events) k.push_back(e.kind);
  return k;
}

const Event& only(const std::vector<Event>& events, std::string_view kind) {
  const Event* found = nullptr;
  for (const auto& e : events)
    if (e.kind == kind) {
      REQUIRE(found == nullptr);
      found = &e;
    }
  REQUIRE(found != nullptr);
  return *found;
}

}  // namespace

TEST_CASE("a healthy first tick says only that monitoring started", "[monitor][tracker]") {
  Tracker t;
  auto ev = t.observe(
      running({peer("web1", PeerPath::direct), peer("laptop", PeerPath::idle, false)}), {});
  CHECK(kinds(ev) == std::vector<std::string>{"monitor_started"});
  CHECK(ev[0].host == "gw1");
  CHECK(ev[0].new_value == "Running");
}

TEST_CASE("a first tick reports what is already wrong", "[monitor][tracker]") {
  Tracker t;
  Snapshot s = running({peer("web1", PeerPath::direct)});
  s.state = BackendState::stopped;
  s.state_text = "Stopped";
  s.health = {"Tailscale could not connect to the 'nyc' relay server."};
  s.peers[0].key_expiry = kT0 + hours(24 * 3);
  auto ev = t.observe(s, {{"p620", "online", false, "offline"}});
  CHECK(kinds(ev) == std::vector<std::string>{"monitor_started", "backend_state", "health_warning",
                                              "expectation"});
  CHECK(ev[1].new_value == "Stopped");
  CHECK(ev[2].new_value == s.health[0]);
  CHECK(ev[3].peer == "p620");
  CHECK(ev[3].new_value == "unmet");
  // Peers are not looked at while the backend is not Running.
  s.state = BackendState::running;
  s.state_text = "Running";
  auto ev2 = t.observe(s, {{"p620", "online", false, "offline"}});
  const Event& k = only(ev2, "key_expiry");
  CHECK(k.peer == "web1");
  CHECK(k.new_value == "soon");
  CHECK(k.message.find("expires in 3d") != std::string::npos);
}

TEST_CASE("path changes direct -> DERP -> direct, also across an idle spell",
          "[monitor][tracker]") {
  Tracker t;
  t.observe(running({peer("web1", PeerPath::direct)}), {});
  auto ev = t.observe(running({peer("web1", PeerPath::derp)}, kT0 + seconds(30)), {});
  const Event& e = only(ev, "peer_path");
  CHECK(e.peer == "web1");
  CHECK(e.old_value == "direct");
  CHECK(e.new_value == "derp");
  CHECK(e.severity == EventSeverity::warning);
  CHECK(to_json(e)["time"] == "2026-12-01T12:00:30.000Z");

  // Idle says nothing about the path; the next active path is compared with the last known one.
  CHECK(t.observe(running({peer("web1", PeerPath::idle)}), {}).empty());
  auto back = t.observe(running({peer("web1", PeerPath::direct)}), {});
  CHECK(only(back, "peer_path").old_value == "derp");
  CHECK(only(back, "peer_path").severity == EventSeverity::info);
  CHECK(t.observe(running({peer("web1", PeerPath::direct)}), {}).empty());
}

TEST_CASE("peers going offline, coming back, joining and leaving", "[monitor][tracker]") {
  Tracker t;
  t.observe(running({peer("web1", PeerPath::direct), peer("db1", PeerPath::derp)}), {});
  auto off =
      t.observe(running({peer("web1", PeerPath::idle, false), peer("db1", PeerPath::derp)}), {});
  CHECK(kinds(off) == std::vector<std::string>{"peer_offline"});
  CHECK(off[0].peer == "web1");
  CHECK(off[0].old_value == "online");
  CHECK(off[0].new_value == "offline");
  auto on = t.observe(running({peer("web1", PeerPath::direct), peer("db1", PeerPath::derp)}), {});
  CHECK(kinds(on) == std::vector<std::string>{"peer_online"});
  auto churn =
      t.observe(running({peer("web1", PeerPath::direct), peer("new1", PeerPath::idle)}), {});
  CHECK(kinds(churn) == std::vector<std::string>{"peer_added", "peer_removed"});
  CHECK(t.peers_tracked() == 2);
}

TEST_CASE("the daemon going away and coming back is one event each way", "[monitor][tracker]") {
  Tracker t;
  t.observe(running({peer("web1", PeerPath::direct)}), {});
  auto down = t.observe(
      unreachable_snapshot("connect /run/x.sock: no such file (tskey-abcdef123456)", kT0), {});
  REQUIRE(kinds(down) == std::vector<std::string>{"daemon_unreachable"});
  CHECK(down[0].old_value == "up");
  CHECK(down[0].message.find("tskey-abcdef") == std::string::npos);  // redacted
  CHECK(t.observe(unreachable_snapshot("still down", kT0), {}).empty());
  auto back = t.observe(running({peer("web1", PeerPath::direct)}), {});
  CHECK(kinds(back) == std::vector<std::string>{"daemon_back"});
}

TEST_CASE("a stopped backend does not turn into a flood of removed peers", "[monitor][tracker]") {
  Tracker t;
  t.observe(running({peer("web1", PeerPath::direct), peer("db1", PeerPath::derp)}), {});
  Snapshot stopped = running({});
  stopped.state = BackendState::needs_login;
  stopped.state_text = "NeedsLogin";
  auto ev = t.observe(stopped, {});
  CHECK(kinds(ev) == std::vector<std::string>{"backend_state"});
  CHECK(ev[0].old_value == "Running");
  CHECK(ev[0].new_value == "NeedsLogin");
  auto again =
      t.observe(running({peer("web1", PeerPath::direct), peer("db1", PeerPath::derp)}), {});
  CHECK(kinds(again) == std::vector<std::string>{"backend_state"});
}

TEST_CASE("state from the IPN bus is reported at once and not again by the next tick",
          "[monitor][tracker]") {
  Tracker t;
  CHECK(t.observe_state(BackendState::stopped, kT0).empty());  // nothing before the first tick
  t.observe(running({}), {});
  auto ev = t.observe_state(BackendState::stopped, kT0);
  REQUIRE(kinds(ev) == std::vector<std::string>{"backend_state"});
  CHECK(ev[0].new_value == "Stopped");
  Snapshot s = running({});
  s.state = BackendState::stopped;
  s.state_text = "Stopped";
  CHECK(t.observe(s, {}).empty());
}

TEST_CASE("health warnings appear and clear, keys enter the warning window and expire",
          "[monitor][tracker]") {
  Tracker t(TrackerOptions{hours(24 * 14)});
  Snapshot s = running({peer("web1", PeerPath::direct)});
  t.observe(s, {});
  s.health = {"DNS unavailable"};
  CHECK(kinds(t.observe(s, {})) == std::vector<std::string>{"health_warning"});
  s.health = {};
  auto cleared = t.observe(s, {});
  CHECK(kinds(cleared) == std::vector<std::string>{"health_cleared"});
  CHECK(cleared[0].old_value == "DNS unavailable");

  s.peers[0].key_expiry = kT0 + hours(24 * 13);
  auto soon = t.observe(s, {});
  CHECK(only(soon, "key_expiry").new_value == "soon");
  CHECK(t.observe(s, {}).empty());  // once, not every tick
  s.peers[0].expired = true;
  auto expired = t.observe(s, {});
  CHECK(only(expired, "key_expiry").old_value == "soon");
  CHECK(only(expired, "key_expiry").new_value == "expired");
  CHECK(only(expired, "key_expiry").severity == EventSeverity::error);
}

TEST_CASE("expectations: unmet and met again", "[monitor][tracker]") {
  Tracker t;
  Snapshot s = running({});
  CHECK(kinds(t.observe(s, {{"p620", "direct", true, "direct"}})) ==
        std::vector<std::string>{"monitor_started"});
  auto un = t.observe(s, {{"p620", "direct", false, "derp fra"}});
  REQUIRE(kinds(un) == std::vector<std::string>{"expectation"});
  CHECK(un[0].old_value == "met");
  CHECK(un[0].new_value == "unmet");
  CHECK(un[0].message.find("relayed") != std::string::npos);
  auto met = t.observe(s, {{"p620", "direct", true, "direct"}});
  CHECK(met[0].new_value == "met");
}

TEST_CASE("event lines: text and JSON with schema_version", "[monitor][event]") {
  Event e;
  e.kind = "peer_path";
  e.time = kT0;
  e.severity = EventSeverity::warning;
  e.host = "gw1";
  e.peer = "web1";
  e.old_value = "direct";
  e.new_value = "derp";
  e.message = "traffic to web1 now goes via DERP (fra)\nsecond line";
  CHECK(to_text_line(e) ==
        "2026-12-01T12:00:00.000Z warning peer_path web1 direct -> derp: traffic to web1 now goes "
        "via DERP (fra) second line\n");
  auto j = nlohmann::json::parse(to_json_line(e));
  CHECK(j["schema_version"] == 1);
  CHECK(j["kind"] == "peer_path");
  CHECK(j["host"] == "gw1");
  CHECK(j["peer"] == "web1");
  CHECK(j["old"] == "direct");
  CHECK(j["new"] == "derp");
  e.peer.clear();
  CHECK_FALSE(to_json(e).contains("peer"));
}
