// `tsfleet status` end to end: the real binary against fake-tailscaled (running.json: a gateway
// gw1 with peers direct, via DERP, via peer relay, offline and expired, an exit node in use,
// routes), joined with a fleet file written for the test.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/fake_daemon.h"
#include "support/helpers.h"

using namespace tsfleet::testing;
using nlohmann::json;

namespace {

// gw1 (this node), and peers of running.json that are all healthy.
const char* kHealthyFleet = R"({
  "schema_version": 1, "tailnet": "tail1234.ts.net", "nixos_release": "25.11",
  "hosts": {
    "gw1":     {"roles": ["subnet-router"], "routes": ["192.168.10.0/24"], "accept_routes": true,
                "tags": ["tag:gateway"], "exit_node": "exit1", "operator": "ops"},
    "web1":    {"roles": ["client"], "tags": ["tag:web"]},
    "db1":     {"roles": ["client"], "tags": ["tag:db"]},
    "edge":    {"roles": ["client"], "hostname": "edge1"},
    "exit1":   {"roles": ["exit-node"], "tags": ["tag:exit"]},
    "router1": {"roles": ["subnet-router"], "routes": ["10.20.0.0/24"], "tags": ["tag:router"]}
  }
})";

// Adds an offline host, a host whose key expired and one that never joined.
const char* kBrokenFleet = R"({
  "schema_version": 1, "tailnet": "tail1234.ts.net", "nixos_release": "25.11",
  "hosts": {
    "gw1":     {"roles": ["subnet-router"], "routes": ["192.168.10.0/24"], "accept_routes": true, "tags": ["tag:gateway"]},
    "web1":    {"roles": ["client"]},
    "laptop":  {"roles": ["client"]},
    "old-box": {"roles": ["client"]},
    "ghost":   {"roles": ["client"]}
  }
})";

struct Env {
  TempDir dir;
  std::string fleet;
  explicit Env(const char* text) : fleet((dir / "fleet.json").string()) { write_file(dir / "fleet.json", text); }
};

const json* host(const json& report, const std::string& name) {
  for (const auto& h : report["hosts"])
    if (h["name"] == name) return &h;
  return nullptr;
}

}  // namespace

TEST_CASE("status: a healthy fleet is one table, exit 0", "[status]") {
  FakeDaemon d(scenario("running.json"));
  Env e(kHealthyFleet);
  auto r = run_tsfleet({"status", "--fleet", e.fleet, "--socket", d.socket().string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("tailscaled: Running") != std::string::npos);
  // self first, then the inventory, then peers the inventory does not know
  auto self = r.out.find("\ngw1 ");
  auto web = r.out.find("\nweb1 ");
  auto laptop = r.out.find("\nlaptop ");
  REQUIRE(self != std::string::npos);
  REQUIRE(web != std::string::npos);
  REQUIRE(laptop != std::string::npos);
  CHECK(self < web);
  CHECK(web < laptop);
  CHECK(r.out.find("direct 192.0.2.7:41641") != std::string::npos);       // web1
  CHECK(r.out.find("DERP(fra)") != std::string::npos);                    // db1
  CHECK(r.out.find("peer-relay 198.51.100.4:7777:vni:12") != std::string::npos);  // edge1
  CHECK(r.out.find("10.20.0.0/24 (primary)") != std::string::npos);       // router1
  CHECK(r.out.find("unexpected") != std::string::npos);                   // laptop, old-box
  CHECK(r.out.find("2027-05-30") != std::string::npos);
  CHECK(r.out.find("health:") != std::string::npos);
}

TEST_CASE("status --json: schema_version, presence, path, exit node, routes, key expiry", "[status]") {
  FakeDaemon d(scenario("running.json"));
  Env e(kHealthyFleet);
  auto r = run_tsfleet({"status", "--json", "--fleet", e.fleet, "--socket", d.socket().string()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK(j["schema_version"] == 1);
  CHECK(j["backend_state"] == "Running");
  CHECK(j["ok"] == true);
  CHECK(j["hosts"][0]["name"] == "gw1");
  CHECK(j["hosts"][0]["presence"] == "self");
  CHECK(j["summary"]["expected"] == 6);
  CHECK(j["summary"]["missing"] == 0);
  CHECK(j["summary"]["unexpected"] == 2);

  const json* web1 = host(j, "web1");
  REQUIRE(web1);
  CHECK((*web1)["path"]["kind"] == "direct");
  CHECK((*web1)["last_handshake"] == "2026-12-01T11:58:30.123456789Z");
  const json* db1 = host(j, "db1");
  REQUIRE(db1);
  CHECK((*db1)["path"]["kind"] == "derp");
  CHECK((*db1)["path"]["via"] == "fra");
  // matched by the plan's hostname, not the inventory name
  const json* edge = host(j, "edge");
  REQUIRE(edge);
  CHECK((*edge)["presence"] == "present");
  CHECK((*edge)["path"]["kind"] == "peer-relay");
  const json* exit1 = host(j, "exit1");
  REQUIRE(exit1);
  CHECK((*exit1)["exit_node"]["offered"] == true);
  CHECK((*exit1)["exit_node"]["in_use"] == true);
  CHECK(j["exit_node_in_use"] == "exit1");
  const json* router1 = host(j, "router1");
  REQUIRE(router1);
  CHECK((*router1)["routes"]["approved"] == json::array({"10.20.0.0/24"}));
  CHECK((*router1)["routes"]["primary"] == json::array({"10.20.0.0/24"}));
  CHECK((*router1)["tags"] == json::array({"tag:router"}));
  CHECK((*router1)["key_expiry"]["state"] == "ok");
  CHECK((*router1)["key_expiry"]["at"] == "2027-05-30T10:00:00Z");
  const json* laptop = host(j, "laptop");
  REQUIRE(laptop);
  CHECK((*laptop)["presence"] == "unexpected");
  CHECK((*laptop)["expected"] == false);
}

TEST_CASE("status: missing, offline and expired expected hosts fail with exit 1 and say which", "[status]") {
  FakeDaemon d(scenario("running.json"));
  Env e(kBrokenFleet);
  auto r = run_tsfleet({"status", "--fleet", e.fleet, "--socket", d.socket().string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.err.find("ghost: missing") != std::string::npos);
  CHECK(r.err.find("laptop: offline (last seen 2026-11-28T09:15:00Z)") != std::string::npos);
  CHECK(r.err.find("old-box: node key expired") != std::string::npos);
  CHECK(r.err.find("web1") == std::string::npos);  // healthy hosts are not blamed

  auto j = run_tsfleet({"status", "--json", "--fleet", e.fleet, "--socket", d.socket().string()});
  CHECK(j.exit_code == 1);
  json rep = json::parse(j.out);
  CHECK(rep["ok"] == false);
  CHECK(rep["summary"]["missing"] == 1);
  CHECK(rep["summary"]["offline"] == 2);  // laptop and old-box
  CHECK(rep["summary"]["key_expired"] == 1);
  CHECK((*host(rep, "ghost"))["presence"] == "missing");
  CHECK((*host(rep, "old-box"))["key_expiry"]["state"] == "expired");
}

TEST_CASE("status --expiry-warning: keys inside the window are warnings, not failures", "[status]") {
  FakeDaemon d(scenario("running.json"));
  Env e(kHealthyFleet);
  auto r = run_tsfleet({"status", "--json", "--expiry-warning", "365", "--fleet", e.fleet, "--socket", d.socket().string()});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  json j = json::parse(r.out);
  CHECK((*host(j, "web1"))["key_expiry"]["state"] == "expiring");
  CHECK(j["summary"]["key_expiring"].get<int>() >= 6);
  bool warned = false;
  for (const auto& w : (*host(j, "web1"))["warnings"])
    if (w.get<std::string>().find("node key expires in") != std::string::npos) warned = true;
  CHECK(warned);

  auto bad = run_tsfleet({"status", "--expiry-warning", "soon", "--fleet", e.fleet, "--socket", d.socket().string()});
  CHECK(bad.exit_code == 2);
}

TEST_CASE("status: a BackendState other than Running is said plainly", "[status]") {
  Env e(kHealthyFleet);
  for (auto [state, words] : {std::pair{"NeedsLogin", "NeedsLogin: this node is logged out: run `tsfleet up`"},
                              std::pair{"Stopped", "Stopped: tailscale is down on this node: run `tsfleet up`"},
                              std::pair{"NeedsMachineAuth", "NeedsMachineAuth: this node is waiting for a tailnet admin"},
                              std::pair{"Starting", "Starting: tailscaled is still connecting"},
                              std::pair{"NoState", "NoState: tailscaled has not loaded its state yet"}}) {
    SECTION(state) {
      FakeDaemon d(scenario("running.json"), {.state = state});
      auto r = run_tsfleet({"status", "--fleet", e.fleet, "--socket", d.socket().string()});
      INFO(r.out << r.err);
      CHECK(r.exit_code == 1);
      CHECK(r.err.find(words) != std::string::npos);
      CHECK(r.out.find(words) != std::string::npos);
      auto j = run_tsfleet({"status", "--json", "--fleet", e.fleet, "--socket", d.socket().string()});
      json rep = json::parse(j.out);
      CHECK(rep["backend_state"] == state);
      CHECK(rep["advice"].get<std::string>().find(words) != std::string::npos);
    }
  }
}

TEST_CASE("status: daemon errors map to their exit codes", "[status]") {
  Env e(kHealthyFleet);
  SECTION("no daemon: 4") {
    TempDir t;
    auto r = run_tsfleet({"status", "--fleet", e.fleet, "--socket", (t / "nope.sock").string()});
    CHECK(r.exit_code == 4);
    CHECK(r.err.find("nope.sock") != std::string::npos);
    CHECK(r.out.empty());
  }
  SECTION("permission denied: 7") {
    FakeDaemon d(scenario("running.json"));
    d.set_fault("status", {{"mode", "http"}, {"status", 403}});
    auto r = run_tsfleet({"status", "--fleet", e.fleet, "--socket", d.socket().string()});
    CHECK(r.exit_code == 7);
    CHECK(r.err.find("status access denied") != std::string::npos);
  }
  SECTION("hang: 8") {
    FakeDaemon d(scenario("running.json"));
    d.set_fault("status", {{"mode", "hang"}});
    ProcessOptions o;
    o.timeout_seconds = 60;
    auto r = run_tsfleet({"status", "--fleet", e.fleet, "--socket", d.socket().string()}, o);
    CHECK(r.exit_code == 8);
    CHECK(r.err.find("/localapi/v0/status") != std::string::npos);
  }
  SECTION("malformed or truncated JSON, reset, 500: 4") {
    FakeDaemon d(scenario("running.json"));
    for (const char* mode : {"malformed", "truncated", "short_body", "reset", "close", "http", "restart"}) {
      d.set_fault("status", {{"mode", mode}});
      auto r = run_tsfleet({"status", "--fleet", e.fleet, "--socket", d.socket().string()});
      INFO(mode << ": " << r.err);
      CHECK(r.exit_code == 4);
      CHECK(r.err.find("status") != std::string::npos);
      d.clear_faults();
      d.wait_for_socket();
    }
    d.set_fault("status", {{"mode", "slow"}, {"delay_ms", 300}});
    auto slow = run_tsfleet({"status", "--fleet", e.fleet, "--socket", d.socket().string()});
    CHECK(slow.exit_code == 0);  // slow is not broken
  }
  SECTION("InUseOtherUser is reported, exit 1") {
    FakeDaemon d(scenario("running.json"), {.state = "InUseOtherUser"});
    auto r = run_tsfleet({"status", "--fleet", e.fleet, "--socket", d.socket().string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("InUseOtherUser: another user owns the tailscaled backend") != std::string::npos);
  }
}
