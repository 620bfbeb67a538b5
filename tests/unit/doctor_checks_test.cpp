// Doctor checks driven directly: a fixture-free filesystem in a TempDir and a DaemonSnapshot
// built by hand, so each rule of a check is pinned down without a daemon.
#include <catch2/catch.hpp>
#include <set>

#include "support/helpers.h"
#include "tsfleet/doctor/doctor.h"
#include "tsfleet/doctor/parsers.h"
#include "tsfleet/fleet.h"
#include "tsfleet/plan.h"

using namespace tsfleet;
using namespace tsfleet::doctor;
using tsfleet::testing::TempDir;
using tsfleet::testing::write_file;

namespace {

struct Fixture {
  TempDir dir;
  sys::RootedFileSystem fs{dir.path()};
  DoctorContext ctx;
  Fixture() {
    ctx.fs = &fs;
    ctx.live = false;
    ctx.host = "gw1";
    ctx.daemon.contacted = true;
    ctx.daemon.socket = "/run/tailscale/tailscaled.sock";
    ctx.daemon.socket_exists = true;
    ctx.daemon.status = localapi::Status{};
    ctx.daemon.status->backend_state = localapi::BackendState::running;
    ctx.daemon.status->backend_state_text = "Running";
    ctx.daemon.status->tun = true;
    ctx.daemon.status->has_self = true;
    ctx.daemon.prefs = localapi::Prefs{};
    ctx.daemon.health = std::map<std::string, localapi::HealthWarning>{};
    ctx.now = *parse_rfc3339("2027-01-01T00:00:00Z");
  }
  std::vector<Result> run(const std::string& id) { return run_checks(ctx, {id}); }
};

}  // namespace

TEST_CASE("key-expiry: disabled, far, within the window, past, Expired", "[doctor][checks]") {
  Fixture f;
  auto& self = f.ctx.daemon.status->self;
  CHECK(f.run("key-expiry")[0].outcome == Outcome::pass);  // no KeyExpiry: disabled
  self.key_expiry = "2027-06-01T00:00:00Z";
  CHECK(f.run("key-expiry")[0].outcome == Outcome::pass);
  self.key_expiry = "2027-01-05T00:00:00Z";
  CHECK(f.run("key-expiry")[0].outcome == Outcome::warn);
  f.ctx.key_expiry_warning = std::chrono::hours(24);
  CHECK(f.run("key-expiry")[0].outcome == Outcome::pass);
  self.key_expiry = "2026-12-31T00:00:00Z";
  CHECK(f.run("key-expiry")[0].outcome == Outcome::fail);
  self.key_expiry = "2030-01-01T00:00:00Z";
  self.expired = true;
  CHECK(f.run("key-expiry")[0].outcome == Outcome::fail);
}

TEST_CASE("health: high or connectivity-impacting warnings FAIL, others WARN, none PASS",
          "[doctor][checks]") {
  Fixture f;
  CHECK(f.run("health")[0].outcome == Outcome::pass);
  auto& h = *f.ctx.daemon.health;
  h["a"] = {"a", "medium", "Title A", "text a", "", false};
  h["b"] = {"b", "low", "", "text b", "", true};
  h["c"] = {"c", "high", "", "text c", "", false};
  auto rs = f.run("health");
  REQUIRE(rs.size() == 3);
  CHECK(rs[0].outcome == Outcome::warn);
  CHECK(rs[0].summary.find("Title A: text a") != std::string::npos);
  CHECK(rs[1].outcome == Outcome::fail);
  CHECK(rs[2].outcome == Outcome::fail);
  CHECK(exit_code_for_results(rs, false) == 1);
}

TEST_CASE("rp-filter follows the larger of conf/all and conf/<interface>", "[doctor][checks]") {
  Fixture f;
  f.ctx.daemon.prefs->route_all = true;
  write_file(f.dir / "proc/sys/net/ipv4/conf/all/rp_filter", "0\n");
  write_file(f.dir / "proc/sys/net/ipv4/conf/tailscale0/rp_filter", "1\n");
  auto r = f.run("rp-filter")[0];
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.subject.file == "/proc/sys/net/ipv4/conf/tailscale0/rp_filter");
  write_file(f.dir / "proc/sys/net/ipv4/conf/tailscale0/rp_filter", "2\n");
  CHECK(f.run("rp-filter")[0].outcome == Outcome::pass);
  f.ctx.daemon.prefs->route_all = false;
  CHECK(f.run("rp-filter")[0].outcome == Outcome::skip);  // not a client of routes: irrelevant
}

TEST_CASE("ip-forwarding: the plan's roles count when the daemon advertises nothing",
          "[doctor][checks]") {
  Fixture f;
  write_file(f.dir / "proc/sys/net/ipv4/ip_forward", "0\n");
  CHECK(f.run("ip-forwarding")[0].outcome == Outcome::skip);
  Fleet fleet = load_default_fleet();
  f.ctx.plan = plan_host(fleet, *fleet.find("p620"));
  auto r = f.run("ip-forwarding")[0];
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.summary.find("the fleet file") != std::string::npos);
  write_file(f.dir / "proc/sys/net/ipv4/ip_forward", "1\n");
  write_file(f.dir / "proc/sys/net/ipv6/conf/all/forwarding", "1\n");
  CHECK(f.run("ip-forwarding")[0].outcome == Outcome::pass);
  f.ctx.daemon.ip_forwarding_warning = "IP forwarding is disabled";
  CHECK(f.run("ip-forwarding")[0].outcome == Outcome::fail);
}

TEST_CASE(
    "firewall-mode: nftables without TS_DEBUG_FIREWALL_MODE warns; the process environment wins",
    "[doctor][checks]") {
  Fixture f;
  CHECK(f.run("firewall-mode")[0].outcome == Outcome::pass);  // no nftables at all
  write_file(f.dir / "etc/nftables.conf", "flush ruleset\n");
  write_file(f.dir / "etc/systemd/system/tailscaled.service",
             "[Service]\nEnvironment=PORT=41641\n");
  CHECK(f.run("firewall-mode")[0].outcome == Outcome::warn);
  write_file(f.dir / "proc/77/comm", "tailscaled\n");
  using namespace std::string_literals;
  write_file(f.dir / "proc/77/environ", "TS_DEBUG_FIREWALL_MODE=nftables\0PATH=/bin\0"s);
  f.ctx.process_cache.reset();  // the process scan is cached per run; this is a new "run"
  auto r = f.run("firewall-mode")[0];
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.subject.file == "/proc/77/environ");
}

TEST_CASE("daemon: states and failures", "[doctor][checks]") {
  Fixture f;
  CHECK(f.run("daemon")[0].outcome == Outcome::pass);
  f.ctx.daemon.status->backend_state = localapi::BackendState::stopped;
  CHECK(f.run("daemon")[0].outcome == Outcome::fail);
  f.ctx.daemon.status->backend_state = localapi::BackendState::starting;
  auto w = f.run("daemon");
  CHECK(w[0].outcome == Outcome::warn);
  CHECK(exit_code_for_results(w, false) == 0);
  CHECK(exit_code_for_results(w, true) == 1);
  f.ctx.daemon.status.reset();
  f.ctx.daemon.failure = DaemonFailure{ErrorCategory::auth, "permission denied"};
  CHECK(f.run("daemon")[0].outcome == Outcome::fail);
  CHECK(f.run("socket-permission")[0].outcome == Outcome::fail);
  CHECK(f.run("direct-paths")[0].outcome == Outcome::skip);
}

TEST_CASE("the catalogue: unique ids, each with a title and what it reads", "[doctor][checks]") {
  std::set<std::string> ids;
  for (const auto& c : check_catalogue()) {
    CHECK(ids.insert(std::string(c.id)).second);
    CHECK(!c.title.empty());
    CHECK(!c.reads.empty());
    CHECK(find_check(c.id) == &c);
  }
  CHECK(find_check("nope") == nullptr);
}
