// `tsfleet test` on real links: hosts are network namespaces joined by veth pairs through a
// bridge, with tailnet addresses (100.64.0.0/10) on the interface that plays tailscale0's part
// (`ts0`, named with --interface); a fake tailscaled serves the LocalAPI part. Every probe
// passes on the healthy lab and reports the right layer when one thing is broken.
//
// Needs root and iproute2 (namespaces): skipped with a message otherwise, except under CI
// (CI=1), where a missing prerequisite fails the test.
#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "support/dns_responder.h"
#include "support/fake_daemon.h"
#include "support/helpers.h"
#include "support/netns.h"
#include "tsfleet/probe/throughput.h"

using namespace tsfleet;
using namespace tsfleet::testing;
using nlohmann::json;

namespace {

bool lab_available() {
  static const std::optional<std::string> why = netns_unavailable();
  if (!why) return true;
  if (std::getenv("CI")) FAIL("network namespace tests cannot run under CI: " << *why);
  WARN("SKIPPED: network namespace test: " << *why);
  return false;
}

constexpr const char* kFleet = R"({
  "schema_version": 1, "tailnet": "tail1234.ts.net", "nixos_release": "25.11",
  "hosts": {
    "gw":     {"roles": ["subnet-router", "exit-node"], "routes": ["192.168.10.0/24"]},
    "laptop": {"roles": ["client"], "accept_routes": true, "exit_node": "gw"},
    "desk":   {"roles": ["client"]}
  }
})";

// laptop (100.64.0.2) -- bridge -- gw (100.64.0.1) -- lan (192.168.10.1)
//                            `--- desk (100.64.0.3)
// laptop has tailscale's policy routing: `ip rule` to table 52 with the accepted route and the
// exit node's default route via gw on ts0, a main-table default via a "wan0" (one end of a veth),
// and MagicDNS (a DNS responder on 100.100.100.100:53 in its namespace).
struct Lab {
  Netns sw{"sw"}, laptop{"laptop"}, gw{"gw"}, desk{"desk"}, lan{"lan"};
  TempDir dir;
  std::unique_ptr<DnsResponder> dns;
  std::unique_ptr<FakeDaemon> daemon;

  explicit Lab(const json& scenario_changes = json::object()) {
    sw.ip({"link", "add", "br0", "type", "bridge"});
    sw.ip({"link", "set", "br0", "up"});
    link_veth(laptop, "ts0", "100.64.0.2/10", sw, "p-laptop", "");
    link_veth(gw, "ts0", "100.64.0.1/10", sw, "p-gw", "");
    link_veth(desk, "ts0", "100.64.0.3/10", sw, "p-desk", "");
    for (const char* port : {"p-laptop", "p-gw", "p-desk"})
      sw.ip({"link", "set", port, "master", "br0"});
    for (const Netns* n : {&laptop, &gw, &desk}) n->ip({"link", "set", "ts0", "mtu", "1280"});
    // gw routes the LAN.
    link_veth(gw, "lan0", "192.168.10.254/24", lan, "eth0", "192.168.10.1/24");
    lan.ip({"route", "add", "default", "via", "192.168.10.254"});
    gw.sysctl("net.ipv4.ip_forward", "1");
    // laptop: an underlay default route and tailscale's table 52.
    laptop.ip({"link", "add", "wan0", "type", "veth", "peer", "name", "wan1"});
    laptop.ip({"link", "set", "wan1", "up"});
    laptop.ip({"addr", "add", "10.99.0.2/24", "dev", "wan0"});
    laptop.ip({"link", "set", "wan0", "up"});
    laptop.ip({"route", "add", "default", "via", "10.99.0.1", "dev", "wan0"});
    laptop.ip({"rule", "add", "pref", "5270", "table", "52"});
    laptop.ip(
        {"route", "add", "192.168.10.0/24", "via", "100.64.0.1", "dev", "ts0", "table", "52"});
    laptop.ip({"route", "add", "default", "via", "100.64.0.1", "dev", "ts0", "table", "52"});
    laptop.ip({"addr", "add", "100.100.100.100/32", "dev", "lo"});
    dns = std::make_unique<DnsResponder>(
        std::map<std::string, std::string>{{"gw.tail1234.ts.net", "100.64.0.1"},
                                           {"desk.tail1234.ts.net", "100.64.0.3"}},
        &laptop, "100.100.100.100", 53);
    json s = json::parse(read_file(scenario("probe-lab.json")));
    s.merge_patch(scenario_changes);
    write_file(dir / "scenario.json", s.dump());
    write_file(dir / "fleet.json", kFleet);
    daemon = std::make_unique<FakeDaemon>(dir / "scenario.json");
  }

  // `tsfleet test --json` run inside laptop's namespace.
  ProcessResult test(std::vector<std::string> extra) const {
    std::vector<std::string> argv = {TSFLEET_BINARY,
                                     "test",
                                     "--json",
                                     "--fleet",
                                     (dir / "fleet.json").string(),
                                     "--host",
                                     "laptop",
                                     "--socket",
                                     daemon->socket().string(),
                                     "--interface",
                                     "ts0",
                                     "--ping-count",
                                     "2",
                                     "--ping-interval",
                                     "0",
                                     "--echo-timeout",
                                     "300ms"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return laptop.exec(argv);
  }
};

json results(const ProcessResult& r) {
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  json j = json::parse(r.out, nullptr, false);
  REQUIRE(j.is_object());
  REQUIRE(j["schema_version"] == 1);
  return j;
}

// The result of `check` for `host`; null when absent.
json result_of(const json& j, const std::string& check, const std::string& host) {
  for (const auto& r : j["results"])
    if (r["check"] == check && r.value("host", "") == host) return r;
  return nullptr;
}

std::string outcome(const json& j, const std::string& check, const std::string& host) {
  json r = result_of(j, check, host);
  return r.is_null() ? "absent" : r["outcome"].get<std::string>();
}

}  // namespace

TEST_CASE("tsfleet test on a healthy lab: every expectation of the fleet passes, exit 0") {
  if (!lab_available()) return;
  Lab lab;
  auto r = lab.test({});
  json j = results(r);
  INFO(j.dump(2));
  CHECK(r.exit_code == 0);
  CHECK(j["host"] == "laptop");
  for (const char* peer : {"gw", "desk"}) {
    CHECK(outcome(j, "ping", peer) == "PASS");
    CHECK(outcome(j, "icmp", peer) == "PASS");
    CHECK(outcome(j, "mtu", peer) == "PASS");
    CHECK(outcome(j, "magicdns", peer) == "PASS");
  }
  CHECK(outcome(j, "subnet-route", "gw") ==
        "PASS");  // laptop accepts routes, gw offers 192.168.10.0/24
  CHECK(outcome(j, "exit-node", "gw") == "PASS");  // laptop uses gw as exit node
  CHECK_THAT(result_of(j, "exit-node", "gw")["summary"].get<std::string>(),
             Catch::Contains("table 52"));
  CHECK_THAT(result_of(j, "mtu", "gw")["summary"].get<std::string>(), Catch::Contains("1280-byte"));
  // Raw socket here: ping_group_range is "1 0" in a fresh namespace.
  CHECK_THAT(result_of(j, "icmp", "gw")["detail"].get<std::string>(),
             Catch::Contains("raw ICMP socket"));
  REQUIRE(j["peers"].size() == 2);
  CHECK(j["peers"][0]["path"] == "direct");
  CHECK(lab.dns->queries() >= 2);
}

TEST_CASE("tsfleet test uses an ICMP datagram socket where ping_group_range allows it") {
  if (!lab_available()) return;
  Lab lab;
  lab.laptop.sysctl("net.ipv4.ping_group_range", "0 2147483647");
  json j = results(lab.test({"--probe", "icmp", "--peer", "desk"}));
  CHECK(outcome(j, "icmp", "desk") == "PASS");
  CHECK_THAT(result_of(j, "icmp", "desk")["detail"].get<std::string>(),
             Catch::Contains("datagram socket"));
}

TEST_CASE("tsfleet test: a link that is down fails ICMP and MTU at the IP layer") {
  if (!lab_available()) return;
  Lab lab;
  lab.desk.ip({"link", "set", "ts0", "down"});
  auto r = lab.test({"--probe", "icmp", "--probe", "mtu"});
  json j = results(r);
  INFO(j.dump(2));
  CHECK(outcome(j, "icmp", "desk") == "FAIL");
  CHECK_THAT(result_of(j, "icmp", "desk")["detail"].get<std::string>(),
             Catch::Contains("layer: IP"));
  CHECK(outcome(j, "mtu", "desk") == "FAIL");
  CHECK(outcome(j, "icmp", "gw") == "PASS");
  CHECK(r.exit_code == 1);
}

TEST_CASE("tsfleet test: a lowered MTU on the path reports the largest size that passes") {
  if (!lab_available()) return;
  Lab lab;
  lab.desk.ip({"link", "set", "ts0", "mtu", "1200"});
  auto r = lab.test({"--probe", "mtu", "--peer", "desk"});
  json j = results(r);
  INFO(j.dump(2));
  json m = result_of(j, "mtu", "desk");
  REQUIRE_FALSE(m.is_null());
  CHECK(m["outcome"] == "FAIL");
  // veth accepts up to MTU + 4 bytes (room for a VLAN tag), so what passes is 1200-1204 bytes.
  std::string summary = m["summary"].get<std::string>();
  auto at = summary.find("at most ");
  REQUIRE(at != std::string::npos);
  int largest = std::stoi(summary.substr(at + 8));
  CHECK(largest >= 1200);
  CHECK(largest <= 1204);
  CHECK_THAT(m["fix"].get<std::string>(), Catch::Contains("mtu " + std::to_string(largest)));
  CHECK(r.exit_code == 1);
}

TEST_CASE("tsfleet test: DNS answering wrong, or not at all, fails MagicDNS") {
  if (!lab_available()) return;
  Lab lab;
  lab.dns->set("desk.tail1234.ts.net", "100.64.0.99");
  json j = results(lab.test({"--probe", "dns"}));
  CHECK(outcome(j, "magicdns", "gw") == "PASS");
  json d = result_of(j, "magicdns", "desk");
  CHECK(d["outcome"] == "FAIL");
  CHECK_THAT(d["summary"].get<std::string>(),
             Catch::Contains("100.64.0.99") && Catch::Contains("100.64.0.3"));

  // A resolver address where nothing answers: the probe says so, and the option points it
  // elsewhere.
  json none = results(lab.test({"--probe", "dns", "--peer", "gw", "--dns-server", "127.0.0.1:9"}));
  json g = result_of(none, "magicdns", "gw");
  CHECK(g["outcome"] == "FAIL");
  CHECK_THAT(g["summary"].get<std::string>(), Catch::Contains("127.0.0.1:9"));
}

TEST_CASE(
    "tsfleet test: a missing subnet route and an exit node out of the path fail at the routing "
    "layer") {
  if (!lab_available()) return;
  Lab lab;
  lab.laptop.ip({"route", "del", "192.168.10.0/24", "table", "52"});
  lab.laptop.ip({"route", "del", "default", "table", "52"});
  auto r = lab.test({"--probe", "route", "--probe", "exit-node"});
  json j = results(r);
  INFO(j.dump(2));
  json route = result_of(j, "subnet-route", "gw");
  CHECK(route["outcome"] == "FAIL");
  CHECK_THAT(route["summary"].get<std::string>(), Catch::Contains("dev wan0"));
  CHECK_THAT(route["fix"].get<std::string>(), Catch::Contains("--accept-routes"));
  json exit = result_of(j, "exit-node", "gw");
  CHECK(exit["outcome"] == "FAIL");
  CHECK_THAT(exit["summary"].get<std::string>(), Catch::Contains("not in the path"));
  CHECK(r.exit_code == 1);
}

TEST_CASE("tsfleet test: a subnet router that does not forward is named as the failing layer") {
  if (!lab_available()) return;
  Lab lab;
  lab.gw.sysctl("net.ipv4.ip_forward", "0");
  json j = results(lab.test({"--probe", "route"}));
  json route = result_of(j, "subnet-route", "gw");
  CHECK(route["outcome"] == "FAIL");
  CHECK_THAT(route["summary"].get<std::string>(), Catch::Contains("does not answer"));
  CHECK_THAT(route["detail"].get<std::string>(), Catch::Contains("subnet router gw"));
}

TEST_CASE(
    "tsfleet test: a relayed client gives exit 10 and netcheck explains it; no pong gives exit "
    "11") {
  if (!lab_available()) return;
  json relayed = {{"ping",
                   {{"100.64.0.3",
                     {{"NodeIP", "100.64.0.3"},
                      {"NodeName", "desk"},
                      {"LatencySeconds", 0.031},
                      {"DERPRegionID", 4},
                      {"DERPRegionCode", "fra"}}}}}};
  Lab lab(relayed);
  // A tailscale CLI stand-in that prints a recorded hard-NAT report.
  auto cli = lab.dir / "tailscale";
  write_file(cli, "#!/bin/sh\ncat '" +
                      (source_dir() / "tests/fixtures/netcheck/hard-nat.json").string() + "'\n");
  std::filesystem::permissions(cli, std::filesystem::perms::owner_all);
  auto r = lab.test({"--probe", "ping", "--probe", "netcheck", "--tailscale", cli.string()});
  json j = results(r);
  INFO(j.dump(2));
  CHECK(r.exit_code == 10);
  CHECK(outcome(j, "ping", "desk") == "WARN");  // a client may be relayed
  CHECK(outcome(j, "ping", "gw") == "PASS");
  json nc = result_of(j, "netcheck", "laptop");
  REQUIRE_FALSE(nc.is_null());
  CHECK_THAT(nc["summary"].get<std::string>(),
             Catch::Contains("hard NAT") && Catch::Contains("relayed: desk"));

  Lab dead(json{{"ping", {{"100.64.0.3", {{"hang", true}}}}}});
  auto d = dead.test({"--probe", "ping", "--ping-timeout", "300ms"});
  json dj = results(d);
  CHECK(d.exit_code == 11);
  CHECK(outcome(dj, "ping", "desk") == "FAIL");
}

TEST_CASE("tsfleet test --throughput measures TCP to a probe server on the other end") {
  if (!lab_available()) return;
  Lab lab;
  std::unique_ptr<probe::ProbeServer> server;
  probe::ProbeServerOptions so;
  so.listen = "100.64.0.1";
  so.port = 0;
  so.sessions = 1;
  lab.gw.run_inside([&] { server = std::make_unique<probe::ProbeServer>(so); });
  std::atomic<bool> stop{false};
  std::thread t([&] { server->serve(stop); });
  auto r = lab.test({"--probe", "throughput", "--throughput", "gw", "--throughput-port",
                     std::to_string(server->port()), "--throughput-time", "500ms"});
  stop = true;
  t.join();
  json j = results(r);
  INFO(j.dump(2));
  json tp = result_of(j, "throughput", "gw");
  CHECK(tp["outcome"] == "PASS");
  CHECK_THAT(tp["summary"].get<std::string>(), Catch::Contains("bit/s to 100.64.0.1"));
  CHECK(r.exit_code == 0);

  // Nobody listening: the probe fails and names the server to start.
  auto none = lab.test({"--probe", "throughput", "--throughput", "gw", "--throughput-port", "9"});
  json nj = results(none);
  CHECK(result_of(nj, "throughput", "gw")["outcome"] == "FAIL");
  CHECK_THAT(result_of(nj, "throughput", "gw")["fix"].get<std::string>(),
             Catch::Contains("probe-server"));
  CHECK(none.exit_code == 1);
}
