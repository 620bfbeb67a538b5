// `tsfleet test` on real links: hosts are network namespaces joined by veth pairs through a
// bridge, with tailnet addresses (100.64.0.0/10) on the interface that plays tailscale0's part
// (`ts0`, named with --interface); a fake tailscaled serves the LocalAPI part. Every probe
// passes on the healthy lab and reports the right layer when one thing is broken.
//
// Needs root and iproute2 (namespaces): skipped with a message otherwise, except under CI
// (CI=1), where a missing prerequisite fails the test.
#include <httplib.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
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
    "gw":     {"roles": ["subnet-router", "exit-node"], "routes": ["192.168.10.0/24", "fd00:10::/64"]},
    "laptop": {"roles": ["client"], "accept_routes": true, "exit_node": "gw"},
    "desk":   {"roles": ["client"]}
  }
})";

// Writes the lab's fleet file and its scenario (probe-lab.json patched by `changes`) into `dir`
// and starts a fake tailscaled on them: this host is laptop.
std::unique_ptr<FakeDaemon> start_lab_daemon(const TempDir& dir, const json& changes) {
  json s = json::parse(read_file(scenario("probe-lab.json")));
  s.merge_patch(changes);
  write_file(dir / "scenario.json", s.dump());
  write_file(dir / "fleet.json", kFleet);
  return std::make_unique<FakeDaemon>(dir / "scenario.json");
}

// `tsfleet test --json` as laptop, run inside `ns`.
ProcessResult tsfleet_test(const Netns& ns, const TempDir& dir, const FakeDaemon& daemon,
                           std::vector<std::string> extra) {
  std::vector<std::string> argv = {TSFLEET_BINARY, "test", "--json", "--fleet",
                                   (dir / "fleet.json").string(), "--host", "laptop", "--socket",
                                   daemon.socket().string(), "--interface", "ts0", "--ping-count",
                                   "2", "--ping-interval", "0", "--echo-timeout", "300ms"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return ns.exec(argv);
}

// Programs a test needs beyond `ip` (nft, turnserver): a SKIP outside CI, a failure under it.
bool have_programs(std::initializer_list<const char*> names) {
  for (const char* n : names)
    if (!have_program(n)) {
      if (std::getenv("CI")) FAIL(n << " is not installed (scripts/install-deps installs it)");
      WARN("SKIPPED: " << n << " is not installed");
      return false;
    }
  return true;
}

// `nft <args>` inside `ns`; throws with nft's stderr.
void nft(const Netns& ns, const std::string& rule) {
  auto r = ns.exec({"nft", rule});
  if (r.exit_code != 0) throw std::runtime_error("nft " + rule + " in " + ns.name() + ": " + r.err);
}

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
    // Tailnet IPv6 (fd7a:115c:a1e0::/48), usable at once (no duplicate address detection).
    laptop.ip({"-6", "addr", "add", "fd7a:115c:a1e0::2/48", "dev", "ts0", "nodad"});
    gw.ip({"-6", "addr", "add", "fd7a:115c:a1e0::1/48", "dev", "ts0", "nodad"});
    desk.ip({"-6", "addr", "add", "fd7a:115c:a1e0::3/48", "dev", "ts0", "nodad"});
    // gw routes the LAN.
    link_veth(gw, "lan0", "192.168.10.254/24", lan, "eth0", "192.168.10.1/24");
    lan.ip({"route", "add", "default", "via", "192.168.10.254"});
    gw.sysctl("net.ipv4.ip_forward", "1");
    gw.ip({"-6", "addr", "add", "fd00:10::fe/64", "dev", "lan0", "nodad"});
    lan.ip({"-6", "addr", "add", "fd00:10::1/64", "dev", "eth0", "nodad"});
    lan.ip({"-6", "route", "add", "default", "via", "fd00:10::fe"});
    gw.sysctl("net.ipv6.conf.all.forwarding", "1");
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
    laptop.ip({"-6", "rule", "add", "pref", "5270", "table", "52"});
    laptop.ip({"-6", "route", "add", "fd00:10::/64", "via", "fd7a:115c:a1e0::1", "dev", "ts0",
               "table", "52"});
    laptop.ip({"-6", "route", "add", "default", "via", "fd7a:115c:a1e0::1", "dev", "ts0",
               "table", "52"});
    laptop.ip({"addr", "add", "100.100.100.100/32", "dev", "lo"});
    dns = std::make_unique<DnsResponder>(
        std::map<std::string, std::string>{{"gw.tail1234.ts.net", "100.64.0.1"},
                                           {"desk.tail1234.ts.net", "100.64.0.3"}},
        &laptop, "100.100.100.100", 53,
        std::map<std::string, std::string>{{"gw.tail1234.ts.net", "fd7a:115c:a1e0::1"},
                                           {"desk.tail1234.ts.net", "fd7a:115c:a1e0::3"}});
    daemon = start_lab_daemon(dir, scenario_changes);
  }

  // `tsfleet test --json` run inside laptop's namespace.
  ProcessResult test(std::vector<std::string> extra) const {
    return tsfleet_test(laptop, dir, *daemon, std::move(extra));
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

// The result of `check` for `host` whose summary contains `text`; null when absent.
json result_about(const json& j, const std::string& check, const std::string& host,
                  const std::string& text) {
  for (const auto& r : j["results"])
    if (r["check"] == check && r.value("host", "") == host &&
        r.value("summary", "").find(text) != std::string::npos)
      return r;
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
    CHECK(outcome(j, "icmp6", peer) == "PASS");
    CHECK(outcome(j, "mtu", peer) == "PASS");
    CHECK(outcome(j, "magicdns", peer) == "PASS");
  }
  // laptop accepts routes, gw offers 192.168.10.0/24 and fd00:10::/64
  CHECK(result_about(j, "subnet-route", "gw", "192.168.10.1 in 192.168.10.0/24")["outcome"] ==
        "PASS");
  CHECK(result_about(j, "subnet-route", "gw", "fd00:10::1 in fd00:10::/64")["outcome"] == "PASS");
  CHECK(outcome(j, "exit-node", "gw") == "PASS");  // laptop uses gw as exit node
  CHECK(outcome(j, "exit-node6", "gw") == "PASS");
  CHECK_THAT(result_of(j, "exit-node", "gw")["summary"].get<std::string>(),
             Catch::Contains("table 52"));
  CHECK_THAT(result_of(j, "mtu", "gw")["summary"].get<std::string>(), Catch::Contains("1280-byte"));
  // Raw socket here: ping_group_range is "1 0" in a fresh namespace.
  CHECK_THAT(result_of(j, "icmp", "gw")["detail"].get<std::string>(),
             Catch::Contains("raw ICMP socket"));
  REQUIRE(j["peers"].size() == 2);
  CHECK(j["peers"][0]["path"] == "direct");
  CHECK(lab.dns->queries() >= 4);  // A and AAAA for each peer
  CHECK_THAT(result_of(j, "magicdns", "gw")["summary"].get<std::string>(),
             Catch::Contains("resolves to 100.64.0.1 and fd7a:115c:a1e0::1"));
}

TEST_CASE("tsfleet test uses an ICMP datagram socket where ping_group_range allows it") {
  if (!lab_available()) return;
  Lab lab;
  lab.laptop.sysctl("net.ipv4.ping_group_range", "0 2147483647");
  json j = results(lab.test({"--probe", "icmp", "--peer", "desk"}));
  CHECK(outcome(j, "icmp", "desk") == "PASS");
  CHECK_THAT(result_of(j, "icmp", "desk")["detail"].get<std::string>(),
             Catch::Contains("ICMP datagram socket"));
  CHECK(outcome(j, "icmp6", "desk") == "PASS");
  CHECK_THAT(result_of(j, "icmp6", "desk")["detail"].get<std::string>(),
             Catch::Contains("ICMPv6 datagram socket"));
}

TEST_CASE("tsfleet test: a peer whose firewall drops ICMPv6 echo fails icmp6, IPv4 still passes") {
  if (!lab_available() || !have_programs({"nft"})) return;
  Lab lab;
  nft(lab.desk, "add table ip6 filter");
  nft(lab.desk, "add chain ip6 filter input { type filter hook input priority 0; }");
  nft(lab.desk, "add rule ip6 filter input icmpv6 type echo-request drop");
  auto r = lab.test({"--probe", "icmp"});
  json j = results(r);
  INFO(j.dump(2));
  CHECK(outcome(j, "icmp", "desk") == "PASS");
  CHECK(outcome(j, "icmp6", "gw") == "PASS");
  json d = result_of(j, "icmp6", "desk");
  CHECK(d["outcome"] == "FAIL");
  CHECK_THAT(d["summary"].get<std::string>(),
             Catch::Contains("no echo reply from fd7a:115c:a1e0::3"));
  CHECK_THAT(d["detail"].get<std::string>(),
             Catch::Contains("layer: IPv6 over the tailnet") && Catch::Contains("raw ICMPv6"));
  CHECK(r.exit_code == 1);
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

  // The IPv4 answer right and the IPv6 one wrong, then missing: the AAAA record is named.
  lab.dns->set("desk.tail1234.ts.net", "100.64.0.3");
  lab.dns->set_aaaa("desk.tail1234.ts.net", "fd7a:115c:a1e0::99");
  json six = results(lab.test({"--probe", "dns", "--peer", "desk"}));
  json d6 = result_of(six, "magicdns", "desk");
  CHECK(d6["outcome"] == "FAIL");
  CHECK_THAT(d6["summary"].get<std::string>(),
             Catch::Contains("(AAAA) to fd7a:115c:a1e0::99") &&
                 Catch::Contains("not to its tailnet address fd7a:115c:a1e0::3"));
  lab.dns->set_aaaa("desk.tail1234.ts.net", "");
  json none6 = results(lab.test({"--probe", "dns", "--peer", "desk"}));
  json n6 = result_of(none6, "magicdns", "desk");
  CHECK(n6["outcome"] == "FAIL");
  CHECK_THAT(n6["summary"].get<std::string>(), Catch::Contains("gave no AAAA record"));

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
  // IPv6 still goes through the exit node and the IPv6 route is still there.
  CHECK(outcome(j, "exit-node6", "gw") == "PASS");
  CHECK(result_about(j, "subnet-route", "gw", "fd00:10::/64")["outcome"] == "PASS");
  json route = result_about(j, "subnet-route", "gw", "192.168.10.0/24");
  CHECK(route["outcome"] == "FAIL");
  CHECK_THAT(route["summary"].get<std::string>(), Catch::Contains("dev wan0"));
  CHECK_THAT(route["fix"].get<std::string>(), Catch::Contains("--accept-routes"));
  json exit = result_of(j, "exit-node", "gw");
  CHECK(exit["outcome"] == "FAIL");
  CHECK_THAT(exit["summary"].get<std::string>(), Catch::Contains("not in the path"));
  CHECK(r.exit_code == 1);
}

TEST_CASE(
    "tsfleet test: IPv4 through the exit node but not IPv6, and an IPv6 route the router does "
    "not forward") {
  if (!lab_available()) return;
  Lab lab;
  lab.laptop.ip({"-6", "route", "del", "default", "table", "52"});
  lab.gw.sysctl("net.ipv6.conf.all.forwarding", "0");
  auto r = lab.test({"--probe", "route", "--probe", "exit-node"});
  json j = results(r);
  INFO(j.dump(2));
  CHECK(outcome(j, "exit-node", "gw") == "PASS");
  json e6 = result_of(j, "exit-node6", "gw");
  CHECK(e6["outcome"] == "FAIL");
  CHECK_THAT(e6["summary"].get<std::string>(), Catch::Contains("2001:db8::1"));
  CHECK_THAT(e6["fix"].get<std::string>(), Catch::Contains("TS_DEBUG_FIREWALL_MODE"));
  CHECK(result_about(j, "subnet-route", "gw", "192.168.10.0/24")["outcome"] == "PASS");
  json r6 = result_about(j, "subnet-route", "gw", "fd00:10::/64");
  CHECK(r6["outcome"] == "FAIL");
  CHECK_THAT(r6["summary"].get<std::string>(), Catch::Contains("does not answer"));
  CHECK_THAT(r6["fix"].get<std::string>(), Catch::Contains("net.ipv6.conf.all.forwarding"));
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
    "tsfleet test: a relayed client gives exit 10 and netcheck explains it, no pong gives exit "
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

// The netcheck probe's own STUN (no tailscale CLI) through a real NAT to a real STUN server:
//   home (10.1.0.2) -- nat (10.1.0.1 | 203.0.113.1, nftables masquerade) -- inet (coturn on
//   203.0.113.10 and 203.0.113.11, the STUN servers of two DERP regions in the daemon's map)
// Plain masquerade keeps the source port for every destination (an easy NAT); `masquerade
// random` picks a port per destination, which is what a hard NAT does. IPv6 is routed without
// NAT (home 2001:db8:1::2, the servers 2001:db8:113::10 and ::11), as it usually is.
struct NatLab {
  Netns home{"home"}, nat{"nat"}, inet{"inet"};
  TempDir dir;
  std::unique_ptr<FakeDaemon> daemon;
  std::unique_ptr<BackgroundProcess> stun_server;

  NatLab(const std::string& masquerade, const json& scenario_changes = json::object()) {
    link_veth(home, "eth0", "10.1.0.2/24", nat, "lan0", "10.1.0.1/24");
    link_veth(nat, "wan0", "203.0.113.1/24", inet, "eth0", "203.0.113.10/24");
    inet.ip({"addr", "add", "203.0.113.11/24", "dev", "eth0"});
    home.ip({"route", "add", "default", "via", "10.1.0.1"});
    nat.sysctl("net.ipv4.ip_forward", "1");
    home.ip({"-6", "addr", "add", "2001:db8:1::2/64", "dev", "eth0", "nodad"});
    nat.ip({"-6", "addr", "add", "2001:db8:1::1/64", "dev", "lan0", "nodad"});
    nat.ip({"-6", "addr", "add", "2001:db8:113::1/64", "dev", "wan0", "nodad"});
    inet.ip({"-6", "addr", "add", "2001:db8:113::10/64", "dev", "eth0", "nodad"});
    inet.ip({"-6", "addr", "add", "2001:db8:113::11/64", "dev", "eth0", "nodad"});
    home.ip({"-6", "route", "add", "default", "via", "2001:db8:1::1"});
    inet.ip({"-6", "route", "add", "2001:db8:1::/64", "via", "2001:db8:113::1"});
    nat.sysctl("net.ipv6.conf.all.forwarding", "1");
    nft(nat, "add table ip nat");
    nft(nat, "add chain ip nat post { type nat hook postrouting priority 100; }");
    nft(nat, "add rule ip nat post oifname wan0 " + masquerade);
    stun_server = inet.spawn({"turnserver", "-n", "--stun-only", "--no-cli", "--no-tls",
                              "--no-dtls", "--listening-ip", "203.0.113.10", "--listening-ip",
                              "203.0.113.11", "--listening-ip", "2001:db8:113::10",
                              "--listening-ip", "2001:db8:113::11", "--listening-port", "3478",
                              "--pidfile",
                              (dir / "turnserver.pid").string(), "--log-file", "stdout",
                              "--simple-log"},
                             dir / "turnserver.log");
    wait_listening();
    json derp = {{"Regions",
                  {{"900", region(900, "lab1", "203.0.113.10", "2001:db8:113::10")},
                   {"901", region(901, "lab2", "203.0.113.11", "2001:db8:113::11")}}}};
    json changes = {{"derpmap", derp}};
    changes.merge_patch(scenario_changes);
    daemon = start_lab_daemon(dir, changes);
  }

  static json region(int id, const std::string& code, const std::string& ip,
                     const std::string& ip6) {
    return {{"RegionID", id},
            {"RegionCode", code},
            {"RegionName", "Lab " + code},
            {"Nodes",
             {{{"Name", std::to_string(id) + "a"},
               {"RegionID", id},
               {"HostName", code + ".invalid"},
               {"IPv4", ip},
               {"IPv6", ip6}}}}};
  }

  // coturn is ready when its four addresses listen on UDP 3478.
  void wait_listening() const {
    for (int i = 0; i < 200; ++i) {
      auto r = inet.exec({"ss", "-Huln"});
      bool all = true;
      for (const char* a : {"203.0.113.10:3478", "203.0.113.11:3478", "[2001:db8:113::10]:3478",
                            "[2001:db8:113::11]:3478"})
        all = all && r.out.find(a) != std::string::npos;
      if (all) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    FAIL("turnserver did not listen on all its addresses; its log:\n" << stun_server->log());
  }

  ProcessResult test(std::vector<std::string> extra) const {
    return tsfleet_test(home, dir, *daemon, std::move(extra));
  }
};

TEST_CASE("tsfleet test netcheck by STUN: behind an easy NAT it finds the public address") {
  if (!lab_available() || !have_programs({"nft", "turnserver"})) return;
  NatLab lab("masquerade");
  // No tailscale CLI anywhere: --netcheck auto falls back to the built-in STUN.
  auto r = lab.test({"--probe", "netcheck", "--tailscale", "/nonexistent/tailscale"});
  json j = results(r);
  INFO(j.dump(2) << "\nturnserver:\n" << lab.stun_server->log());
  json nc = result_of(j, "netcheck", "laptop");
  REQUIRE_FALSE(nc.is_null());
  CHECK(nc["outcome"] == "PASS");
  CHECK_THAT(nc["summary"].get<std::string>(), Catch::Contains("UDP ok, easy NAT"));
  std::string detail = nc["detail"].get<std::string>();
  CHECK_THAT(detail, Catch::Contains("by STUN"));
  CHECK_THAT(detail, Catch::Contains("public IPv4 203.0.113.1:"));
  CHECK_THAT(detail, Catch::Contains("STUN 203.0.113.10:3478 (region 900 lab1): sees us at "
                                     "203.0.113.1:"));
  CHECK_THAT(detail, Catch::Contains("STUN 203.0.113.11:3478 (region 901 lab2): sees us at "
                                     "203.0.113.1:"));
  // IPv6 is not translated: the servers see home's own address.
  CHECK_THAT(detail, Catch::Contains("public IPv6 [2001:db8:1::2]:"));
  CHECK_THAT(detail, Catch::Contains("STUN [2001:db8:113::11]:3478 (region 901 lab2): sees us at "
                                     "[2001:db8:1::2]:"));
  CHECK(r.exit_code == 0);
}

TEST_CASE(
    "tsfleet test netcheck by STUN: a hard NAT (a new port per destination) explains a relayed "
    "peer") {
  if (!lab_available() || !have_programs({"nft", "turnserver"})) return;
  json relayed = {{"ping",
                   {{"100.64.0.3",
                     {{"NodeIP", "100.64.0.3"},
                      {"NodeName", "desk"},
                      {"LatencySeconds", 0.031},
                      {"DERPRegionID", 900},
                      {"DERPRegionCode", "lab1"}}}}}};
  NatLab lab("masquerade random", relayed);
  auto r = lab.test({"--probe", "ping", "--probe", "netcheck", "--netcheck", "stun"});
  json j = results(r);
  INFO(j.dump(2) << "\nturnserver:\n" << lab.stun_server->log());
  CHECK(r.exit_code == 10);
  json nc = result_of(j, "netcheck", "laptop");
  REQUIRE_FALSE(nc.is_null());
  CHECK(nc["outcome"] == "WARN");
  CHECK_THAT(nc["summary"].get<std::string>(),
             Catch::Contains("hard NAT") && Catch::Contains("relayed: desk"));
  std::string detail = nc["detail"].get<std::string>();
  CHECK_THAT(detail, Catch::Contains("MappingVariesByDestIP"));
  CHECK_THAT(detail, Catch::Contains("port mapping (UPnP, NAT-PMP, PCP) was not checked"));
  // Both servers saw the NAT's address, at different ports.
  std::regex seen("sees us at 203\\.0\\.113\\.1:([0-9]+)");
  std::set<std::string> ports;
  for (std::sregex_iterator it(detail.begin(), detail.end(), seen), end; it != end; ++it)
    ports.insert((*it)[1]);
  CHECK(ports.size() == 2);
}

TEST_CASE("tsfleet test netcheck by STUN: UDP dropped on the way out fails with the fix") {
  if (!lab_available() || !have_programs({"nft", "turnserver"})) return;
  NatLab lab("masquerade");
  nft(lab.nat, "add table inet filter");
  nft(lab.nat, "add chain inet filter forwarding { type filter hook forward priority 0; }");
  nft(lab.nat, "add rule inet filter forwarding udp dport 3478 drop");
  auto r = lab.test({"--probe", "netcheck", "--netcheck", "stun", "--stun-timeout", "1s"});
  json j = results(r);
  INFO(j.dump(2));
  json nc = result_of(j, "netcheck", "laptop");
  REQUIRE_FALSE(nc.is_null());
  CHECK(nc["outcome"] == "FAIL");
  CHECK_THAT(nc["summary"].get<std::string>(), Catch::Contains("UDP blocked"));
  CHECK_THAT(nc["detail"].get<std::string>(),
             Catch::Contains("STUN 203.0.113.10:3478 (region 900 lab1): no answer"));
  CHECK_THAT(nc["fix"].get<std::string>(), Catch::Contains("STUN 3478/udp"));
  CHECK(r.exit_code == 1);
}

TEST_CASE("tsfleet test --egress-url: the world sees the exit node's address, or the wrong one") {
  if (!lab_available() || !have_programs({"nft"})) return;
  Lab lab;
  // "The internet" is 198.51.100.80 behind gw's LAN; gw masquerades what it forwards there, as
  // an exit node does.
  lab.lan.ip({"addr", "add", "198.51.100.80/32", "dev", "lo"});
  lab.gw.ip({"route", "add", "198.51.100.80/32", "via", "192.168.10.1"});
  nft(lab.gw, "add table ip nat");
  nft(lab.gw, "add chain ip nat post { type nat hook postrouting priority 100; }");
  nft(lab.gw, "add rule ip nat post oifname lan0 masquerade");
  // An "what is my IP" service: answers with the address it sees.
  httplib::Server whoami;
  whoami.Get("/ip", [](const httplib::Request& req, httplib::Response& res) {
    res.set_content(req.remote_addr + "\n", "text/plain");
  });
  bool bound = false;
  lab.lan.run_inside([&] { bound = whoami.bind_to_port("198.51.100.80", 8080); });
  REQUIRE(bound);
  std::thread server([&] { whoami.listen_after_bind(); });
  struct Stop {
    httplib::Server& s;
    std::thread& t;
    ~Stop() {
      s.stop();
      t.join();
    }
  } stop{whoami, server};

  const std::string url = "http://198.51.100.80:8080/ip";
  json ok = results(lab.test({"--probe", "exit-node", "--egress-url", url, "--egress-expect",
                              "192.168.10.254"}));
  INFO(ok.dump(2));
  CHECK(outcome(ok, "exit-node", "gw") == "PASS");
  json e = result_of(ok, "egress", "gw");
  REQUIRE_FALSE(e.is_null());
  CHECK(e["outcome"] == "PASS");
  CHECK_THAT(e["summary"].get<std::string>(), Catch::Contains("192.168.10.254"));

  // Without an expectation it reports what it saw and asks for one.
  json seen = results(lab.test({"--probe", "exit-node", "--egress-url", url}));
  CHECK(result_of(seen, "egress", "gw")["outcome"] == "WARN");

  // The exit node forwards without masquerading: the world sees the tailnet address instead.
  nft(lab.gw, "delete table ip nat");
  auto bad = lab.test({"--probe", "exit-node", "--egress-url", url, "--egress-expect",
                       "192.168.10.254"});
  json bj = results(bad);
  INFO(bj.dump(2));
  json be = result_of(bj, "egress", "gw");
  CHECK(be["outcome"] == "FAIL");
  CHECK_THAT(be["summary"].get<std::string>(),
             Catch::Contains("100.64.0.2") && Catch::Contains("not the exit node's 192.168.10.254"));
  CHECK(bad.exit_code == 1);

  // The exit node out of the path: the request does not get out at all.
  lab.laptop.ip({"route", "del", "default", "table", "52"});
  json gone = results(lab.test({"--probe", "exit-node", "--egress-url", url, "--timeout", "2s"}));
  json ge = result_of(gone, "egress", "gw");
  CHECK(ge["outcome"] == "FAIL");
  CHECK_THAT(ge["summary"].get<std::string>(), Catch::Contains("did not answer"));
}
