// Doctor checks driven directly: a fixture-free filesystem in a TempDir and a DaemonSnapshot
// built by hand, so each rule of a check is pinned down without a daemon.
#include <catch2/catch.hpp>
#include <filesystem>
#include <regex>
#include <set>

#include "support/helpers.h"
#include "support/sntp_responder.h"
#include "tsfleet/doctor/doctor.h"
#include "tsfleet/doctor/parsers.h"
#include "tsfleet/fleet.h"
#include "tsfleet/plan.h"

using namespace tsfleet;
using namespace tsfleet::doctor;
using tsfleet::testing::SntpResponder;
using tsfleet::testing::TempDir;
using tsfleet::testing::write_file;
using namespace std::chrono_literals;

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

// The offset a clock summary reports ("... (NTP offset +300.001 s, ...").
double offset_of(const Result& r) {
  std::smatch m;
  INFO(r.summary);
  REQUIRE(std::regex_search(r.summary, m, std::regex("NTP offset ([+-][0-9]+\\.[0-9]+) s")));
  return std::stod(m[1].str());
}

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
    "firewall-mode: nftables without TS_DEBUG_FIREWALL_MODE warns, and the process environment "
    "wins",
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

TEST_CASE("clock: the measured offset decides PASS / WARN / FAIL, and the fix fits the daemon",
          "[doctor][checks][sntp]") {
  Fixture f;
  SntpResponder server;
  f.ctx.time_servers = {{"127.0.0.1", server.port()}};
  auto r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.subject.file == server.endpoint());
  CHECK(offset_of(r) == Approx(0).margin(0.1));
  CHECK(r.fix.empty());

  server.set_offset(5s);
  r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::warn);
  CHECK(offset_of(r) == Approx(5).margin(0.1));
  CHECK(r.summary.find("behind " + server.endpoint()) != std::string::npos);
  CHECK(r.fix.find("services.timesyncd.enable = true;") != std::string::npos);
  CHECK(r.fix.find("timedatectl set-ntp true") != std::string::npos);

  server.set_offset(-300s);
  r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.summary.find("ahead of " + server.endpoint()) != std::string::npos);
  CHECK(offset_of(r) == Approx(-300).margin(0.1));
  // chrony configured: its fix and its one-off command.
  write_file(f.dir / "etc/chrony.conf", "pool 2.nixos.pool.ntp.org iburst\n");
  r = f.run("clock")[0];
  CHECK(r.fix.find("services.chrony.enable = true;") != std::string::npos);
  CHECK(r.fix.find("chronyc makestep") != std::string::npos);
  CHECK(r.fix.find("networking.timeServers = [") != std::string::npos);
  CHECK(r.detail.find("configured: 2.nixos.pool.ntp.org:123 (chrony in /etc/chrony.conf)") !=
        std::string::npos);

  // Either side of the thresholds (1 s and 60 s).
  server.set_offset(1100ms);
  CHECK(f.run("clock")[0].outcome == Outcome::warn);
  server.set_offset(59s);
  CHECK(f.run("clock")[0].outcome == Outcome::warn);
  server.set_offset(61s);
  CHECK(f.run("clock")[0].outcome == Outcome::fail);
}

TEST_CASE("clock: tailscaled's clock warning FAILs even when the offset is small",
          "[doctor][checks][sntp]") {
  Fixture f;
  SntpResponder server;
  f.ctx.time_servers = {{"127.0.0.1", server.port()}};
  (*f.ctx.daemon.health)["clock-out-of-sync"] = {"clock-out-of-sync", "high", "Clock out of sync",
                                                 "the clock is off",  "",     true};
  auto r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::fail);
  CHECK(offset_of(r) == Approx(0).margin(0.1));
  CHECK(r.summary.find("tailscaled reports a clock problem: Clock out of sync") !=
        std::string::npos);
}

TEST_CASE("clock: servers that do not answer WARN, naming them, and the next server is asked",
          "[doctor][checks][sntp]") {
  Fixture f;
  SntpResponder silent({.silent = true}), good({.offset = 2s});
  f.ctx.time_server_timeout = 400ms;
  f.ctx.time_servers = {{"127.0.0.1", silent.port()}};
  auto r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::warn);
  CHECK(r.subject.file == silent.endpoint());
  CHECK(r.summary.find("no NTP server answered") != std::string::npos);
  CHECK(r.summary.find(silent.endpoint()) != std::string::npos);
  CHECK(r.summary.find("may be blocked") != std::string::npos);
  CHECK(r.fix.find("UDP 123") != std::string::npos);
  CHECK(exit_code_for_results({r}, false) == 0);

  f.ctx.time_servers.push_back({"127.0.0.1", good.port()});
  r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::warn);  // 2 s off
  CHECK(r.subject.file == good.endpoint());
  CHECK(r.detail.find("before that: no answer from NTP server " + silent.endpoint()) !=
        std::string::npos);
  CHECK(silent.queries() == 2);
  CHECK(good.queries() == 1);
}

TEST_CASE("clock: the configured servers are asked on the live system, never for a snapshot",
          "[doctor][checks][sntp]") {
  Fixture f;
  SntpResponder server({.offset = 90s});
  write_file(f.dir / "etc/chrony/chrony.conf",
             "server 127.0.0.1 port " + std::to_string(server.port()) + " iburst\n");
  // A snapshot (the fixture's default): the servers are read and named, but not asked.
  auto r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::pass);  // tailscaled answered and reports no clock problem
  CHECK(r.summary.find("no NTP server was asked") != std::string::npos);
  CHECK(r.summary.find("127.0.0.1:" + std::to_string(server.port()) +
                       " (chrony in "
                       "/etc/chrony/chrony.conf)") != std::string::npos);
  CHECK(r.summary.find("--time-server") != std::string::npos);
  CHECK(server.queries() == 0);

  // The live system asks them (live is only what doctor thinks of the root; the files here are
  // the temporary tree's).
  f.ctx.live = true;
  r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::fail);
  CHECK(r.subject.file == server.endpoint());
  CHECK(server.queries() == 1);

  // --time-server none: nobody is asked.
  f.ctx.ask_time_servers = false;
  r = f.run("clock")[0];
  CHECK(r.summary.find("no NTP server was asked: --time-server none") != std::string::npos);
  CHECK(server.queries() == 1);
}

TEST_CASE("clock: where the configured servers come from", "[doctor][checks][sntp]") {
  Fixture f;
  f.ctx.live = true;
  f.ctx.daemon.health.reset();  // tailscaled gave no health: no evidence without a server
  auto r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::skip);
  CHECK(r.summary.find("none is configured") != std::string::npos);

  SntpResponder a;
  // NixOS chrony: the unit's -f names the file in the Nix store.
  write_file(f.dir / "etc/systemd/system/chronyd.service",
             "[Service]\nExecStart=/nix/store/x-chrony/bin/chronyd -n -m -u chrony -f "
             "/nix/store/y-chrony.conf\n");
  write_file(f.dir / "nix/store/y-chrony.conf",
             "server 127.0.0.1 port " + std::to_string(a.port()) + " iburst\n");
  r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::pass);
  CHECK(r.subject.file == a.endpoint());
  CHECK(a.queries() == 1);

  // timesyncd (the NixOS default): NTP= in timesyncd.conf, a drop-in replacing it. timesyncd
  // takes no port; these are TEST-NET addresses nobody answers at, so the WARN names the
  // drop-in's server (the first one is no longer configured).
  std::filesystem::remove(f.dir / "etc/systemd/system/chronyd.service");
  write_file(f.dir / "etc/systemd/timesyncd.conf", "[Time]\nNTP=192.0.2.10\n");
  write_file(f.dir / "etc/systemd/timesyncd.conf.d/10-local.conf",
             "[Time]\nNTP=\nNTP=192.0.2.20\n");
  f.ctx.time_server_timeout = 300ms;
  r = f.run("clock")[0];
  CHECK(r.outcome == Outcome::warn);
  CHECK(r.subject.file == "192.0.2.20:123");
  CHECK(r.summary.find("192.0.2.10") == std::string::npos);
  CHECK(r.detail.find("systemd-timesyncd in /etc/systemd/timesyncd.conf, "
                      "/etc/systemd/timesyncd.conf.d/10-local.conf") != std::string::npos);
  CHECK(r.fix.find("services.timesyncd.enable = true;") != std::string::npos);
}
