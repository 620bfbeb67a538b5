// tailscale ping semantics, the concurrent runner, the exit-code rule and the suite's use of the
// HostPlan, against a scripted LocalApi and a scripted process runner (no network).
#include <algorithm>
#include <atomic>
#include <catch2/catch.hpp>
#include <deque>
#include <map>
#include <mutex>
#include <thread>

#include "tsfleet/error.h"
#include "tsfleet/fleet.h"
#include "tsfleet/plan.h"
#include "tsfleet/probe/ping.h"
#include "tsfleet/probe/runner.h"
#include "tsfleet/probe/suite.h"

using namespace tsfleet;
using namespace tsfleet::probe;
using localapi::PingResult;

namespace {

// Answers pings from a per-IP script; an empty script (or a "timeout" entry) throws a timeout.
struct ScriptedApi final : localapi::LocalApi {
  std::mutex mu;
  std::map<std::string, std::deque<std::optional<PingResult>>> script;
  std::map<std::string, int> calls;
  localapi::Status st;

  localapi::Status status(const localapi::CallOptions&) override { return st; }
  localapi::Status status_without_peers(const localapi::CallOptions&) override { return st; }
  localapi::Prefs prefs(const localapi::CallOptions&) override { return {}; }
  localapi::Prefs patch_prefs(const localapi::PrefsPatch&, const localapi::CallOptions&) override {
    return {};
  }
  PingResult ping(std::string_view ip, localapi::PingType, int,
                  const localapi::CallOptions&) override {
    std::lock_guard lk(mu);
    ++calls[std::string(ip)];
    auto& q = script[std::string(ip)];
    if (q.empty() || !q.front()) {
      if (!q.empty()) q.pop_front();
      throw Error(ErrorCategory::timeout, "POST /localapi/v0/ping: no answer within the deadline");
    }
    PingResult r = *q.front();
    if (q.size() > 1) q.pop_front();  // the last answer repeats
    return r;
  }
  localapi::WhoIs whois(std::string_view, const localapi::CallOptions&) override { return {}; }
  localapi::DerpMap derp_map(const localapi::CallOptions&) override { return {}; }
  std::string check_ip_forwarding(const localapi::CallOptions&) override { return ""; }
  std::string user_metrics(const localapi::CallOptions&) override { return ""; }
  void watch_ipn_bus(const localapi::NotifyCallback&, const localapi::WatchOptions&) override {}
};

PingResult derp(const std::string& code = "fra") {
  PingResult r;
  r.derp_region_id = 4;
  r.derp_region_code = code;
  r.latency_seconds = 0.023;
  return r;
}
PingResult direct(const std::string& ep = "192.0.2.7:41641") {
  PingResult r;
  r.endpoint = ep;
  r.latency_seconds = 0.005;
  return r;
}

PingOptions fast(int count = 10) {
  PingOptions o;
  o.count = count;
  o.relayed_gap = std::chrono::milliseconds(0);
  o.per_ping = std::chrono::milliseconds(100);
  return o;
}

}  // namespace

TEST_CASE("ping stops at the first direct pong, like --until-direct") {
  ScriptedApi api;
  api.script["100.64.0.5"] = {derp(), derp(), direct(), derp()};
  auto o = tailscale_ping(api, "100.64.0.5", fast());
  CHECK(o.path == PathKind::direct);
  CHECK(o.via == "192.0.2.7:41641");
  CHECK(o.sent == 3);
  CHECK(o.latency_ms == Approx(5));
  CHECK(api.calls["100.64.0.5"] == 3);
  CHECK(ping_result("web1", "100.64.0.5", o, true).outcome == Outcome::pass);
}

TEST_CASE("ping uses up the count when only DERP answers, and says so") {
  ScriptedApi api;
  api.script["100.64.0.6"] = {derp("nyc")};
  auto o = tailscale_ping(api, "100.64.0.6", fast(4));
  CHECK(o.path == PathKind::derp);
  CHECK(o.via == "DERP(nyc)");
  CHECK(o.sent == 4);
  CHECK(o.err == "direct connection not established");
  // A router must be direct; a client may be relayed.
  auto router = ping_result("p620", "100.64.0.6", o, true);
  CHECK(router.outcome == Outcome::fail);
  CHECK_THAT(router.summary, Catch::Contains("DERP(nyc)"));
  CHECK_THAT(router.detail, Catch::Contains("layer: tailscale path"));
  CHECK(ping_result("razer", "100.64.0.6", o, false).outcome == Outcome::warn);
}

TEST_CASE("a peer relay path is named before DERP, as the CLI does") {
  ScriptedApi api;
  PingResult pr = derp();
  pr.peer_relay = "198.51.100.9:7777:vni:3";
  api.script["100.64.0.7"] = {pr};
  auto o = tailscale_ping(api, "100.64.0.7", fast(1));
  CHECK(o.path == PathKind::peer_relay);
  CHECK(o.via == "peer-relay(198.51.100.9:7777:vni:3)");
}

TEST_CASE("per-ping timeouts are retried up to the count, no pong at all is unreachable") {
  ScriptedApi api;
  api.script["100.64.0.8"] = {std::nullopt, direct()};
  auto late = tailscale_ping(api, "100.64.0.8", fast(3));
  CHECK(late.path == PathKind::direct);
  CHECK(late.sent == 2);

  ScriptedApi dead;
  auto o = tailscale_ping(dead, "100.64.0.9", fast(3));
  CHECK(o.path == PathKind::unreachable);
  CHECK(o.sent == 3);
  CHECK(o.answered == 0);
  auto r = ping_result("samsung", "100.64.0.9", o, false);
  CHECK(r.outcome == Outcome::fail);
  CHECK_THAT(r.summary, Catch::Contains("timed out"));
}

TEST_CASE("the daemon's Err ends the ping: own address is skipped, unknown peer fails") {
  ScriptedApi api;
  PingResult local;
  local.err = "100.64.0.1 is local Tailscale IP";
  local.is_local_ip = true;
  api.script["100.64.0.1"] = {local};
  PingResult none;
  none.err = "no matching peer";
  api.script["100.64.0.99"] = {none};
  auto l = tailscale_ping(api, "100.64.0.1", fast());
  CHECK(l.path == PathKind::local);
  CHECK(ping_result("self", "100.64.0.1", l, false).outcome == Outcome::skip);
  auto n = tailscale_ping(api, "100.64.0.99", fast());
  CHECK(n.path == PathKind::error);
  CHECK(n.sent == 1);
  CHECK(ping_result("x", "100.64.0.99", n, false).outcome == Outcome::fail);
}

TEST_CASE("run_concurrently keeps task order, bounds parallelism and turns exceptions into FAILs") {
  std::atomic<int> running{0}, peak{0};
  std::vector<ProbeTask> tasks;
  for (int i = 0; i < 12; ++i)
    tasks.push_back({"t" + std::to_string(i), [i, &running, &peak] {
                       int now = ++running;
                       int p = peak.load();
                       while (now > p && !peak.compare_exchange_weak(p, now)) {
                       }
                       std::this_thread::sleep_for(std::chrono::milliseconds(20));
                       --running;
                       if (i == 5) throw std::runtime_error("boom");
                       Result r;
                       r.check = "t" + std::to_string(i);
                       r.outcome = Outcome::pass;
                       return r;
                     }});
  std::size_t calls = 0;
  auto results = run_concurrently(std::move(tasks), 3,
                                  [&](std::size_t, std::size_t total, const std::string&) {
                                    ++calls;
                                    CHECK(total == 12);
                                  });
  REQUIRE(results.size() == 12);
  CHECK(results[0].check == "t0");
  CHECK(results[11].check == "t11");
  CHECK(results[5].outcome == Outcome::fail);
  CHECK(results[5].summary == "boom");
  CHECK(calls == 12);
  CHECK(peak.load() <= 3);
}

TEST_CASE("exit codes: unreachable 11 over failures 1 over relayed 10 over 0") {
  Result pass{"icmp", Outcome::pass, {}, "", "", ""};
  Result fail{"mtu", Outcome::fail, {}, "", "", ""};
  Result relayed_router{"ping", Outcome::fail, {}, "", "", ""};
  relayed_router.subject.host = "p620";
  PeerPath d{"a", "100.64.0.2", PathKind::direct, "", 1};
  PeerPath r{"p620", "100.64.0.3", PathKind::derp, "DERP(fra)", 20};
  PeerPath u{"c", "100.64.0.4", PathKind::unreachable, "", 0};
  CHECK(exit_code_for({pass}, {d}) == 0);
  CHECK(exit_code_for({pass, relayed_router}, {d, r}) == 10);
  CHECK(exit_code_for({fail, relayed_router}, {d, r}) == 1);
  CHECK(exit_code_for({fail}, {d, r, u}) == 11);
}

namespace {

constexpr const char* kFleet = R"({
  "schema_version": 1, "tailnet": "tail0000.ts.net", "nixos_release": "25.11",
  "hosts": {
    "gw":     {"roles": ["subnet-router", "exit-node"], "routes": ["192.168.10.0/24"]},
    "laptop": {"roles": ["client"], "accept_routes": true, "exit_node": "gw"},
    "desk":   {"roles": ["client"]},
    "ghost":  {"roles": ["client"]}
  }
})";

localapi::PeerStatus peer(const std::string& name, const std::string& ip, bool online = true) {
  localapi::PeerStatus p;
  p.host_name = name;
  p.dns_name = name + ".tail0000.ts.net.";
  p.tailscale_ips = {ip, "fd7a:115c:a1e0::1"};
  p.online = online;
  return p;
}

// `ip route get ADDR` answers: route_out for IPv4 addresses, route6_out for IPv6 ones. Probes run
// concurrently, so what it saw is kept under a lock.
struct FakeRunner final : sys::ProcessRunner {
  std::string route_out = "198.51.100.1 dev tailscale0 table 52 src 100.64.0.2 uid 0 \n    cache\n";
  std::string route6_out =
      "2001:db8::1 from :: dev tailscale0 table 52 src fd7a:115c:a1e0::2 metric 1024 pref medium\n";
  std::mutex mu;
  std::vector<std::vector<std::string>> seen;
  sys::ProcessResult run(const sys::ProcessRequest& r) override {
    std::lock_guard lock(mu);
    seen.push_back(r.argv);
    sys::ProcessResult res;
    res.exit_code = 0;
    res.out = r.argv.back().find(':') != std::string::npos ? route6_out : route_out;
    return res;
  }
  std::vector<std::vector<std::string>> seen_sorted() {
    std::lock_guard lock(mu);
    auto v = seen;
    std::sort(v.begin(), v.end());
    return v;
  }
};

struct Setup {
  std::vector<HostPlan> plans = plan(load_fleet(kFleet, "fleet.json"));
  std::shared_ptr<ScriptedApi> api = std::make_shared<ScriptedApi>();
  FakeRunner runner;
  SuiteEnv env;
  Setup() {
    api->st.backend_state = localapi::BackendState::running;
    api->st.backend_state_text = "Running";
    api->st.peer["nodekey:1"] = peer("gw", "100.64.0.1");
    api->st.peer["nodekey:2"] = peer("desk", "100.64.0.3");
    api->st.peer["nodekey:3"] = peer("ghost", "100.64.0.4", false);
    env.api = [a = api]() -> std::unique_ptr<localapi::LocalApi> {
      struct Ref final : localapi::LocalApi {
        std::shared_ptr<ScriptedApi> a;
        localapi::Status status(const localapi::CallOptions& o) override { return a->status(o); }
        localapi::Status status_without_peers(const localapi::CallOptions& o) override {
          return a->status(o);
        }
        localapi::Prefs prefs(const localapi::CallOptions& o) override { return a->prefs(o); }
        localapi::Prefs patch_prefs(const localapi::PrefsPatch& p,
                                    const localapi::CallOptions& o) override {
          return a->patch_prefs(p, o);
        }
        PingResult ping(std::string_view ip, localapi::PingType t, int s,
                        const localapi::CallOptions& o) override {
          return a->ping(ip, t, s, o);
        }
        localapi::WhoIs whois(std::string_view x, const localapi::CallOptions& o) override {
          return a->whois(x, o);
        }
        localapi::DerpMap derp_map(const localapi::CallOptions& o) override {
          return a->derp_map(o);
        }
        std::string check_ip_forwarding(const localapi::CallOptions& o) override {
          return a->check_ip_forwarding(o);
        }
        std::string user_metrics(const localapi::CallOptions& o) override {
          return a->user_metrics(o);
        }
        void watch_ipn_bus(const localapi::NotifyCallback& c,
                           const localapi::WatchOptions& o) override {
          a->watch_ipn_bus(c, o);
        }
      };
      auto r = std::make_unique<Ref>();
      r->a = a;
      return r;
    };
    env.runner = &runner;
  }
  const HostPlan& host(const std::string& n) {
    for (const auto& p : plans)
      if (p.name == n) return p;
    throw std::runtime_error("no host " + n);
  }
};

SuiteOptions ping_only() {
  SuiteOptions o;
  o.kinds = {ProbeKind::ping};
  o.ping = fast(2);
  return o;
}

const Result* find(const SuiteReport& r, const std::string& check, const std::string& host) {
  for (const auto& x : r.results)
    if (x.check == check && x.subject.host == host) return &x;
  return nullptr;
}

}  // namespace

TEST_CASE(
    "the suite pings every other fleet host, a relayed router fails its expectation (exit 10)") {
  Setup s;
  s.api->script["100.64.0.1"] = {derp()};
  s.api->script["100.64.0.3"] = {direct()};
  auto o = ping_only();
  o.peers = {"gw", "desk"};
  auto rep = run_suite(s.plans, s.host("laptop"), o, s.env);
  REQUIRE(rep.paths.size() == 2);
  const Result* gw = find(rep, "ping", "gw");
  REQUIRE(gw);
  CHECK(gw->outcome == Outcome::fail);  // routers must be reachable directly
  CHECK(find(rep, "ping", "desk")->outcome == Outcome::pass);
  CHECK(rep.exit_code == test_exit::some_relayed);
  auto j = render_suite_json(rep);
  CHECK(j["schema_version"] == 1);
  CHECK(j["exit_code"] == 10);
  CHECK(j["peers"][0]["path"] == "derp");
}

TEST_CASE(
    "the suite: an offline fleet host and one absent from the tailnet are unreachable (exit 11)") {
  Setup s;
  s.api->script["100.64.0.1"] = {direct()};
  s.api->script["100.64.0.3"] = {direct()};
  auto rep = run_suite(s.plans, s.host("desk"), ping_only(), s.env);
  const Result* ghost = find(rep, "ping", "ghost");
  REQUIRE(ghost);
  CHECK(ghost->outcome == Outcome::fail);
  CHECK_THAT(ghost->summary, Catch::Contains("offline"));
  const Result* laptop = find(rep, "ping", "laptop");
  REQUIRE(laptop);
  CHECK_THAT(laptop->summary, Catch::Contains("not in this tailnet"));
  CHECK(s.api->calls.count("100.64.0.4") == 0);  // an offline peer is not pinged (it would hang)
  CHECK(rep.exit_code == test_exit::some_unreachable);
}

TEST_CASE("netcheck by STUN with a DERP map that has no STUN server fails, not 'UDP blocked'") {
  Setup s;
  SuiteOptions o;
  o.kinds = {ProbeKind::netcheck};
  o.netcheck = NetcheckMethod::stun;
  auto rep = run_suite(s.plans, s.host("laptop"), o, s.env);
  const Result* n = find(rep, "netcheck", "laptop");
  REQUIRE(n);
  CHECK(n->outcome == Outcome::fail);
  CHECK_THAT(n->summary, Catch::Contains("lists no STUN server"));
  CHECK_THAT(n->summary, !Catch::Contains("UDP blocked"));
  CHECK_THAT(n->fix, Catch::Contains("--netcheck cli"));
}

TEST_CASE("the suite checks the exit node route only on a host that uses one") {
  Setup s;
  SuiteOptions o;
  o.kinds = {ProbeKind::exit_node};
  o.interface_name = "tailscale0";
  auto rep = run_suite(s.plans, s.host("laptop"), o, s.env);
  const Result* e = find(rep, "exit-node", "gw");
  REQUIRE(e);
  CHECK(e->outcome == Outcome::pass);
  CHECK_THAT(e->summary, Catch::Contains("table 52"));
  const Result* e6 = find(rep, "exit-node6", "gw");
  REQUIRE(e6);
  CHECK(e6->outcome == Outcome::pass);
  CHECK(s.runner.seen_sorted() ==
        std::vector<std::vector<std::string>>{{"ip", "route", "get", "198.51.100.1"},
                                              {"ip", "route", "get", "2001:db8::1"}});
  CHECK(rep.exit_code == 0);

  s.runner.route_out = "198.51.100.1 via 192.168.1.1 dev enp5s0 src 192.168.1.20 uid 0\n";
  rep = run_suite(s.plans, s.host("laptop"), o, s.env);
  e = find(rep, "exit-node", "gw");
  REQUIRE(e);
  CHECK(e->outcome == Outcome::fail);
  CHECK_THAT(e->summary, Catch::Contains("not in the path"));
  CHECK(find(rep, "exit-node6", "gw")->outcome == Outcome::pass);
  CHECK(rep.exit_code == test_exit::failures);

  // desk uses no exit node: nothing to check.
  rep = run_suite(s.plans, s.host("desk"), o, s.env);
  CHECK(find(rep, "exit-node", "gw") == nullptr);
}

TEST_CASE(
    "the suite refuses an unknown --peer with a suggestion, and a daemon that is not Running") {
  Setup s;
  auto o = ping_only();
  o.peers = {"dsek"};
  try {
    run_suite(s.plans, s.host("laptop"), o, s.env);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::usage);
    CHECK_THAT(e.what(), Catch::Contains("did you mean desk"));
  }
  s.api->st.backend_state = localapi::BackendState::stopped;
  s.api->st.backend_state_text = "Stopped";
  try {
    run_suite(s.plans, s.host("laptop"), ping_only(), s.env);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::daemon);
    CHECK_THAT(e.what(), Catch::Contains("Stopped"));
  }
}

TEST_CASE(
    "a transient LocalAPI transport error is retried, a persistent one ends the ping as an error") {
  struct Flaky final : localapi::LocalApi {
    int failures_left;
    int calls = 0;
    explicit Flaky(int n) : failures_left(n) {}
    localapi::Status status(const localapi::CallOptions&) override { return {}; }
    localapi::Status status_without_peers(const localapi::CallOptions&) override { return {}; }
    localapi::Prefs prefs(const localapi::CallOptions&) override { return {}; }
    localapi::Prefs patch_prefs(const localapi::PrefsPatch&,
                                const localapi::CallOptions&) override {
      return {};
    }
    PingResult ping(std::string_view, localapi::PingType, int,
                    const localapi::CallOptions&) override {
      ++calls;
      if (failures_left-- > 0)
        throw Error(ErrorCategory::daemon,
                    "POST /localapi/v0/ping: Transport endpoint is not connected");
      return direct();
    }
    localapi::WhoIs whois(std::string_view, const localapi::CallOptions&) override { return {}; }
    localapi::DerpMap derp_map(const localapi::CallOptions&) override { return {}; }
    std::string check_ip_forwarding(const localapi::CallOptions&) override { return ""; }
    std::string user_metrics(const localapi::CallOptions&) override { return ""; }
    void watch_ipn_bus(const localapi::NotifyCallback&, const localapi::WatchOptions&) override {}
  };
  Flaky once(1);
  auto ok = tailscale_ping(once, "100.64.0.5", fast());
  CHECK(ok.path == PathKind::direct);
  CHECK(ok.sent == 1);
  CHECK(once.calls == 2);
  Flaky always(100);
  auto bad = tailscale_ping(always, "100.64.0.5", fast());
  CHECK(bad.path == PathKind::error);
  CHECK_THAT(bad.err, Catch::Contains("not connected"));
  CHECK(always.calls == 6);
}
