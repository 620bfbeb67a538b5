// tsfleet doctor end to end: the real binary over fixture trees (tests/fixtures/doctor/<case>/,
// copied to a temporary directory so modes can be set) and the real fake-tailscaled serving a
// doctor-* scenario. Each check is seen both passing and failing (or warning), by outcome,
// subject and the NixOS option its fix names.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "support/fake_daemon.h"
#include "support/helpers.h"
#include "support/sntp_responder.h"
#include "tsfleet/doctor/sntp.h"

using namespace tsfleet::testing;
using namespace std::chrono_literals;
using nlohmann::json;
namespace fs = std::filesystem;

extern char** environ;

namespace {

// The fixture tree `name` copied into `dir` (symlinks kept as links), with the state directory
// made private (git does not keep modes) unless `state_mode` says otherwise.
fs::path tree(const TempDir& dir, const std::string& name, unsigned state_mode = 0700) {
  fs::path to = dir / name;
  fs::copy(source_dir() / "tests/fixtures/doctor" / name, to,
           fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  fs::path state = to / "var/lib/tailscale";
  if (fs::exists(state)) {
    ::chmod(state.c_str(), state_mode);
    if (fs::exists(state / "tailscaled.state")) ::chmod((state / "tailscaled.state").c_str(), 0600);
  }
  return to;
}

struct Run {
  int exit_code;
  json report;
  std::string err;
};

Run doctor(const std::vector<std::string>& args, const ProcessOptions& options = {}) {
  std::vector<std::string> a = {"doctor", "--json"};
  a.insert(a.end(), args.begin(), args.end());
  auto r = run_tsfleet(a, options);
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  json j = json::parse(r.out);  // throws (failing the test) when stdout is not JSON
  REQUIRE(j.at("schema_version") == 1);
  return {r.exit_code, j, r.err};
}

// The only result of `check` (fails when there is not exactly one).
json result(const Run& r, const std::string& check) {
  std::vector<json> found;
  for (const auto& x : r.report.at("results"))
    if (x.at("check") == check) found.push_back(x);
  INFO(r.report.dump(2));
  REQUIRE(found.size() == 1);
  return found[0];
}

std::vector<json> results(const Run& r, const std::string& check) {
  std::vector<json> found;
  for (const auto& x : r.report.at("results"))
    if (x.at("check") == check) found.push_back(x);
  return found;
}

bool contains(const json& j, const char* key, const std::string& text) {
  return j.contains(key) && j.at(key).get<std::string>().find(text) != std::string::npos;
}

ProcessOptions with_fake_cli() {
  ProcessOptions o;
  const char* path = std::getenv("PATH");
  o.env["PATH"] = fake_tailscale_cli_dir().string() + ":" + (path ? path : "/usr/bin:/bin");
  return o;
}

// The NTP offset a clock result's summary reports ("... NTP offset +300.001 s ...").
double offset_in(const json& x) {
  std::string s = x.at("summary").get<std::string>();
  std::smatch m;
  INFO(s);
  REQUIRE(std::regex_search(s, m, std::regex("NTP offset ([+-][0-9]+\\.[0-9]+) s")));
  return std::stod(m[1].str());
}

// A real chronyd serving NTP on 127.0.0.1 from this machine's clock (`local stratum 10`), with
// everything it writes in `dir`. -x: it never touches the clock; -d: it stays in the foreground.
class Chronyd {
 public:
  explicit Chronyd(const TempDir& dir) : log_(dir / "chronyd.log") {
    port_ = free_loopback_port(/*udp=*/true);
    fs::path conf = dir / "chrony.conf";
    write_file(conf, "port " + std::to_string(port_) +
                         "\nbindaddress 127.0.0.1\nallow 127.0.0.1\nlocal stratum 10\n"
                         "cmdport 0\nbindcmdaddress /\n"  // no command sockets, no /run/chrony
                         "pidfile " +
                         (dir / "chronyd.pid").string() + "\ndriftfile " +
                         (dir / "chrony.drift").string() + "\n");
    const passwd* pw = ::getpwuid(::geteuid());
    std::string user = pw ? pw->pw_name : "root";
    std::vector<std::string> args = {"chronyd", "-x", "-d", "-u", user, "-f", conf.string()};
    std::vector<char*> argv;
    for (auto& x : args) argv.push_back(x.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    int rc = ::posix_spawnp(&pid_, "chronyd", &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) pid_ = -1;
    REQUIRE(rc == 0);
    // Ready when it gives a valid reply (it may say "unsynchronized" for a moment first).
    auto until = std::chrono::steady_clock::now() + 15s;
    while (std::chrono::steady_clock::now() < until) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL("chronyd exited at start: " << read_file(log_));
      }
      if (tsfleet::doctor::query_sntp({"127.0.0.1", port_}, 300ms).measurement) return;
      std::this_thread::sleep_for(100ms);
    }
    FAIL("chronyd did not answer on " << endpoint() << " within 15 s: " << read_file(log_));
  }
  ~Chronyd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  Chronyd(const Chronyd&) = delete;
  Chronyd& operator=(const Chronyd&) = delete;
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string log() const { return read_file(log_); }

 private:
  fs::path log_;
  std::uint16_t port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace

TEST_CASE("doctor on a healthy router: every check passes or says why it cannot run", "[doctor]") {
  TempDir dir;
  FakeDaemon d(scenario("doctor-router.json"));
  auto root = tree(dir, "healthy-router");
  auto r = doctor(
      {"--root", root.string(), "--socket", d.socket().string(), "--now", "2026-12-01T12:00:00Z"});
  CHECK(r.exit_code == 0);
  CHECK(r.report.at("host") == "gw1");
  for (const auto& x : r.report.at("results")) {
    INFO(x.dump(2));
    CHECK(x.at("host") == "gw1");
    if (x.at("check") == "version-skew")
      CHECK(x.at("outcome") == "SKIP");  // a snapshot's CLI cannot be run
    else
      CHECK(x.at("outcome") == "PASS");
  }
  CHECK(r.report.at("summary").at("pass") == 15);
  CHECK(result(r, "ip-forwarding").at("file") == "/proc/sys/net/ipv4/ip_forward");
  CHECK(result(r, "magicdns").at("file") == "/run/systemd/resolve/netif/5");
  CHECK(contains(result(r, "udp-port"), "summary",
                 "tailscaled holds UDP 41641 and the NixOS firewall opens it"));
  CHECK(contains(result(r, "firewall-mode"), "file", "tailscaled.service.d/overrides.conf"));
}

TEST_CASE(
    "doctor on a broken router: each failure names the file and the NixOS option that fixes it",
    "[doctor]") {
  TempDir dir;
  FakeDaemon d(scenario("doctor-broken.json"));
  auto root = tree(dir, "broken-router", 0777);
  auto r = doctor(
      {"--root", root.string(), "--socket", d.socket().string(), "--now", "2027-05-28T12:00:00Z"});
  CHECK(r.exit_code == 1);
  CHECK(r.report.at("exit_code") == 1);

  auto x = result(r, "ip-forwarding");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(x.at("file") == "/proc/sys/net/ipv4/ip_forward");
  CHECK(contains(x, "summary", "net.ipv4.ip_forward is 0"));
  CHECK(
      contains(x, "summary", "IP forwarding is disabled"));  // the daemon's own check-ip-forwarding
  CHECK(contains(x, "fix", "services.tailscale.useRoutingFeatures = \"both\""));

  x = result(r, "rp-filter");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(contains(x, "file", "/proc/sys/net/ipv4/conf/"));
  CHECK(contains(x, "summary", "uses an exit node"));
  CHECK(contains(x, "summary", "firewall's reverse-path check is strict"));
  CHECK(contains(x, "fix", "networking.firewall.checkReversePath = \"loose\";"));

  x = result(r, "firewall-mode");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(
      contains(x, "summary", "lacks TS_DEBUG_FIREWALL_MODE"));  // the [Install] line does not count
  CHECK(contains(x, "fix",
                 "systemd.services.tailscaled.environment.TS_DEBUG_FIREWALL_MODE = \"nftables\";"));

  x = result(r, "firewall-trust");
  CHECK(x.at("outcome") == "WARN");
  CHECK(x.at("file") == "/.tsfleet/iptables-save.txt");
  CHECK(contains(x, "fix", "networking.firewall.trustedInterfaces = [ \"tailscale0\" ];"));
  CHECK(contains(x, "fix", "--netfilter-mode=nodivert"));

  x = result(r, "udp-port");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(contains(x, "summary", "held by syncthing (pid 4321"));
  CHECK(contains(x, "fix", "services.tailscale.port = 41642;"));

  x = result(r, "state-dir");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(x.at("file") == "/var/lib/tailscale");
  CHECK(contains(x, "summary", "mode 0777"));
  CHECK(contains(x, "fix", "StateDirectoryMode = \"0700\""));

  x = result(r, "tun-interface");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(x.at("file") == "/sys/class/net/tailscale0");
  CHECK(contains(x, "fix", "services.tailscale.interfaceName"));

  x = result(r, "socket-permission");
  CHECK(x.at("outcome") == "WARN");
  CHECK(contains(x, "summary", "may read but not change"));
  CHECK(contains(x, "fix", "--operator="));

  x = result(r, "direct-paths");
  CHECK(x.at("outcome") == "WARN");
  CHECK(contains(x, "summary", "db1 (DERP fra)"));
  CHECK(!contains(x, "summary", "exit1"));
  CHECK(contains(x, "fix", "services.tailscale.openFirewall = true;"));

  x = result(r, "magicdns");
  CHECK(x.at("outcome") == "WARN");
  CHECK(contains(x, "summary", "accept-dns is off"));
  CHECK(contains(x, "fix", "--accept-dns=true"));

  x = result(r, "resolv-conf");
  CHECK(x.at("outcome") == "WARN");
  CHECK(x.at("file") == "/etc/resolv.conf");
  CHECK(contains(x, "summary", "tailscale wrote /etc/resolv.conf itself"));
  CHECK(contains(x, "fix", "services.resolved.enable = true;"));

  x = result(r, "key-expiry");
  CHECK(x.at("outcome") == "WARN");
  CHECK(contains(x, "summary", "expires at 2027-05-30T10:00:00Z"));
  CHECK(contains(x, "fix", "services.tailscale.authKeyFile"));

  x = result(r, "clock");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(contains(x, "summary", "Clock out of sync"));
  CHECK(contains(x, "fix", "services.timesyncd.enable = true;"));

  auto health = results(r, "health");
  REQUIRE(health.size() == 2);
  int fails = 0, warns = 0;
  for (const auto& h : health) {
    if (h.at("outcome") == "FAIL") {
      ++fails;
      CHECK(contains(h, "summary", "clock-out-of-sync"));
    } else if (h.at("outcome") == "WARN") {
      ++warns;
      CHECK(contains(h, "summary", "could not connect to the 'nyc' relay server"));
    }
  }
  CHECK(fails == 1);
  CHECK(warns == 1);
}

TEST_CASE(
    "doctor firewall-trust: the nftables NixOS firewall without tailscale0 trusted FAILs, and the "
    "exit code follows it",
    "[doctor]") {
  // healthy-router with one change: nixos-fw's input chain trusts only lo, and tailscale's
  // ts-input (an older tailscale, netfilter-mode on) has no accept-all rule for tailscale0.
  TempDir dir;
  FakeDaemon d(scenario("doctor-router.json"));  // NetfilterMode 2: on
  auto root = tree(dir, "firewall-untrusted-nft");
  auto r = doctor(
      {"--root", root.string(), "--socket", d.socket().string(), "--now", "2026-12-01T12:00:00Z"});
  auto x = result(r, "firewall-trust");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(x.at("file") == "/.tsfleet/nft-ruleset.txt");
  CHECK(contains(x, "summary", "the nftables NixOS firewall drops packets on tailscale0"));
  CHECK(contains(x, "summary", "peers cannot reach this host"));
  CHECK(x.at("fix") == "networking.firewall.trustedInterfaces = [ \"tailscale0\" ];");
  // Everything else on this tree is as healthy as healthy-router: the FAIL alone decides.
  for (const auto& y : r.report.at("results")) {
    INFO(y.dump(2));
    if (y.at("check") == "firewall-trust" || y.at("check") == "version-skew") continue;
    CHECK(y.at("outcome") == "PASS");
  }
  CHECK(r.report.at("summary").at("fail") == 1);
  CHECK(r.exit_code == 1);
  CHECK(r.report.at("exit_code") == 1);

  // The check alone exits 1; the same tree without it exits 0.
  auto only = doctor(
      {"--root", root.string(), "--socket", d.socket().string(), "--check", "firewall-trust"});
  CHECK(only.exit_code == 1);
  auto rest = doctor({"--root", root.string(), "--socket", d.socket().string(), "--check",
                      "firewall-mode", "--check", "udp-port"});
  CHECK(result(rest, "firewall-mode").at("outcome") == "PASS");
  CHECK(result(rest, "udp-port").at("outcome") == "PASS");
  CHECK(rest.exit_code == 0);

  // Without the daemon (netfilter mode unknown) the ruleset alone still FAILs it, in text too.
  auto text = run_tsfleet({"doctor", "--root", root.string(), "--check", "firewall-trust"});
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("FAIL") != std::string::npos);
  CHECK(text.out.find("networking.firewall.trustedInterfaces = [ \"tailscale0\" ];") !=
        std::string::npos);
}

TEST_CASE("doctor socket-permission: a daemon that refuses even reads FAILs it", "[doctor]") {
  TempDir dir;
  FakeDaemon d(scenario("doctor-router.json"));
  auto root = tree(dir, "healthy-router");
  d.set_fault("status", {{"mode", "http"}, {"status", 403}, {"body", "status access denied"}});
  auto r = doctor({"--root", root.string(), "--socket", d.socket().string(), "--check",
                   "socket-permission", "--check", "daemon"});
  auto x = result(r, "socket-permission");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(contains(x, "summary", "cannot even read"));
  CHECK(contains(x, "fix", "services.tailscale.extraSetFlags = [ \"--operator="));
  CHECK(result(r, "daemon").at("outcome") == "FAIL");
  CHECK(r.exit_code == 1);
}

TEST_CASE("doctor --check runs only the named checks, and --strict turns WARN into exit 1",
          "[doctor]") {
  TempDir dir;
  FakeDaemon d(scenario("doctor-broken.json"));
  auto root = tree(dir, "broken-router");
  auto r = doctor({"--root", root.string(), "--socket", d.socket().string(), "--check",
                   "direct-paths", "--check", "magicdns"});
  REQUIRE(r.report.at("results").size() == 2);
  CHECK(result(r, "direct-paths").at("outcome") == "WARN");
  CHECK(r.exit_code == 0);  // WARN alone is not a failure
  auto strict = doctor({"--root", root.string(), "--socket", d.socket().string(), "--check",
                        "magicdns", "--strict"});
  CHECK(strict.exit_code == 1);

  auto bad = run_tsfleet({"doctor", "--check", "rp-filtr"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("did you mean rp-filter?") != std::string::npos);
  CHECK(run_tsfleet({"doctor", "--root", (dir / "nope").string()}).exit_code == 2);
  CHECK(run_tsfleet({"doctor", "--now", "yesterday"}).exit_code == 2);
}

TEST_CASE("doctor --list names every check, in text and JSON", "[doctor]") {
  auto text = run_tsfleet({"doctor", "--list"});
  CHECK(text.exit_code == 0);
  auto j = json::parse(run_tsfleet({"doctor", "--list", "--json"}).out);
  CHECK(j.at("schema_version") == 1);
  REQUIRE(j.at("checks").size() == 16);
  for (const auto& c : j.at("checks")) {
    CHECK(text.out.find(c.at("id").get<std::string>()) != std::string::npos);
    CHECK(!c.at("reads").get<std::string>().empty());
  }
}

TEST_CASE(
    "doctor with tailscaled down: daemon FAILs with 'is tailscaled running?', the rest still run",
    "[doctor]") {
  TempDir dir;
  auto root = tree(dir, "healthy-router");
  auto r = doctor({"--root", root.string(), "--socket", (dir / "no.sock").string()});
  CHECK(r.exit_code == 1);
  auto x = result(r, "daemon");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(contains(x, "summary", "is tailscaled running?"));
  CHECK(contains(x, "fix", "services.tailscale.enable = true;"));
  CHECK(result(r, "key-expiry").at("outcome") == "SKIP");
  CHECK(contains(result(r, "health"), "summary", "is tailscaled running?"));
  CHECK(result(r, "tun-interface").at("outcome") == "PASS");  // filesystem checks still ran
  CHECK(result(r, "clock").at("outcome") == "PASS");

  // A snapshot without --socket never asks this machine's daemon.
  auto snap = doctor({"--root", root.string(), "--check", "daemon"});
  CHECK(result(snap, "daemon").at("outcome") == "SKIP");
  CHECK(contains(result(snap, "daemon"), "summary", "no --socket"));
}

TEST_CASE("doctor: a node that needs login, an expired key, and a daemon that hangs", "[doctor]") {
  TempDir dir;
  auto root = tree(dir, "healthy-router");
  {
    FakeDaemon d(scenario("needs-login.json"));
    auto r =
        doctor({"--root", root.string(), "--socket", d.socket().string(), "--check", "daemon"});
    auto x = result(r, "daemon");
    CHECK(x.at("outcome") == "FAIL");
    CHECK(contains(x, "summary", "NeedsLogin"));
    CHECK(contains(x, "fix", "services.tailscale.authKeyFile"));
  }
  FakeDaemon d(scenario("doctor-router.json"));
  auto r = doctor({"--root", root.string(), "--socket", d.socket().string(), "--check",
                   "key-expiry", "--now", "2027-06-01T00:00:00Z"});
  CHECK(r.exit_code == 1);
  CHECK(result(r, "key-expiry").at("outcome") == "FAIL");
  CHECK(contains(result(r, "key-expiry"), "summary", "expired"));

  d.set_fault("status", {{"mode", "http"}, {"status", 500}, {"body", "backend broken"}});
  auto h = doctor({"--root", root.string(), "--socket", d.socket().string()});
  CHECK(h.exit_code == 1);
  CHECK(contains(result(h, "daemon"), "summary", "does not answer"));
  CHECK(contains(result(h, "daemon"), "detail", "backend broken"));
}

TEST_CASE("doctor: DNS with a hand-written resolv.conf, and a dangling resolv.conf link",
          "[doctor]") {
  TempDir dir;
  FakeDaemon d(scenario("doctor-router.json"));
  auto root = tree(dir, "dns-hand-written");
  auto r = doctor({"--root", root.string(), "--socket", d.socket().string(), "--check", "magicdns",
                   "--check", "resolv-conf"});
  auto m = result(r, "magicdns");
  CHECK(m.at("outcome") == "FAIL");
  CHECK(m.at("file") == "/etc/resolv.conf");
  CHECK(contains(m, "summary", "only to 192.168.1.1"));
  CHECK(contains(m, "fix", "services.resolved.enable = true;"));
  auto rc = result(r, "resolv-conf");
  CHECK(rc.at("outcome") == "WARN");
  CHECK(contains(rc, "summary", "does not say who manages it"));
  CHECK(r.exit_code == 1);

  // The link's absolute target is resolved inside the snapshot, never on this machine.
  auto dangling = doctor({"--root", tree(dir, "dns-dangling").string(), "--check", "resolv-conf"});
  auto x = result(dangling, "resolv-conf");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(contains(x, "summary",
                 "links to /run/systemd/resolve/stub-resolv.conf, which does not exist"));
}

TEST_CASE("doctor: the inventory makes a host a router even when the daemon says nothing",
          "[doctor]") {
  TempDir dir;
  auto root = tree(dir, "broken-router");
  // p620 is a subnet router and exit node in the embedded default fleet; no daemon is asked.
  auto r = doctor({"--root", root.string(), "--host", "p620", "--check", "ip-forwarding", "--check",
                   "rp-filter"},
                  in_dir(dir.path()));
  CHECK(r.report.at("fleet_host") == "p620");
  auto x = result(r, "ip-forwarding");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(x.at("host") == "p620");
  CHECK(contains(x, "summary", "by the fleet file"));
  CHECK(contains(x, "fix", "services.tailscale.useRoutingFeatures"));

  auto unknown =
      run_tsfleet({"doctor", "--root", root.string(), "--host", "p62"}, in_dir(dir.path()));
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("did you mean p620?") != std::string::npos);
}

TEST_CASE("doctor version-skew: the CLI against the daemon, SKIP without a CLI", "[doctor]") {
  TempDir dir;
  {
    FakeDaemon d(scenario("doctor-router.json"));  // 1.102.3, like the fake CLI
    auto r = doctor({"--socket", d.socket().string(), "--check", "version-skew"}, with_fake_cli());
    CHECK(result(r, "version-skew").at("outcome") == "PASS");
  }
  FakeDaemon d(scenario("doctor-broken.json"));  // 1.100.0
  auto r = doctor({"--socket", d.socket().string(), "--check", "version-skew"}, with_fake_cli());
  auto x = result(r, "version-skew");
  CHECK(x.at("outcome") == "WARN");
  CHECK(contains(x, "summary", "the CLI is 1.102.3 but tailscaled runs 1.100.0"));
  CHECK(contains(x, "fix", "services.tailscale.package"));

  ProcessOptions no_cli;
  no_cli.env["PATH"] = dir.path().string();  // nothing on PATH
  auto s = doctor({"--socket", d.socket().string(), "--check", "version-skew"}, no_cli);
  CHECK(result(s, "version-skew").at("outcome") == "SKIP");
  CHECK(contains(result(s, "version-skew"), "summary", "no `tailscale` CLI"));
}

TEST_CASE("doctor clock: measured against a real chronyd, the offset is about 0 and it PASSes",
          "[doctor][sntp]") {
  REQUIRE(have_program("chronyd"));  // scripts/install-deps installs chrony
  TempDir dir;
  Chronyd chrony(dir);
  auto root = tree(dir, "healthy-router");
  auto r =
      doctor({"--root", root.string(), "--check", "clock", "--time-server", chrony.endpoint()});
  INFO(chrony.log());
  auto x = result(r, "clock");
  CHECK(x.at("outcome") == "PASS");
  CHECK(x.at("file") == chrony.endpoint());
  CHECK(contains(x, "summary", chrony.endpoint()));
  CHECK(contains(x, "summary", "stratum 10"));
  CHECK(std::abs(offset_in(x)) < 0.5);                    // chronyd serves this machine's clock
  CHECK(contains(x, "detail", "reference 127.127.1.1"));  // chrony's local reference
  CHECK(r.exit_code == 0);
}

TEST_CASE("doctor clock: a server 5 s ahead WARNs, 300 s ahead FAILs, with the offset and the fix",
          "[doctor][sntp]") {
  TempDir dir;
  auto root = tree(dir, "healthy-router");
  SntpResponder server({.offset = 5s});
  auto w =
      doctor({"--root", root.string(), "--check", "clock", "--time-server", server.endpoint()});
  auto x = result(w, "clock");
  CHECK(x.at("outcome") == "WARN");
  CHECK(x.at("file") == server.endpoint());
  CHECK(offset_in(x) == Approx(5.0).margin(0.5));
  CHECK(contains(x, "summary", "behind " + server.endpoint()));
  CHECK(contains(x, "fix", "services.timesyncd.enable = true;"));
  CHECK(w.exit_code == 0);  // WARN alone
  CHECK(doctor({"--root", root.string(), "--check", "clock", "--time-server", server.endpoint(),
                "--strict"})
            .exit_code == 1);

  server.set_offset(300s);
  auto f =
      doctor({"--root", root.string(), "--check", "clock", "--time-server", server.endpoint()});
  x = result(f, "clock");
  CHECK(x.at("outcome") == "FAIL");
  CHECK(offset_in(x) == Approx(300.0).margin(1.0));
  CHECK(contains(x, "summary", "a minute or more off"));
  CHECK(contains(x, "fix", "services.timesyncd.enable = true;"));
  CHECK(contains(x, "fix", "networking.timeServers = ["));
  CHECK(contains(x, "fix", "timedatectl set-ntp true"));
  CHECK(f.exit_code == 1);
  CHECK(f.report.at("exit_code") == 1);

  // A host that runs chrony gets chrony's fix; the text report shows the same.
  write_file(root / "etc/chrony.conf", "pool 2.nixos.pool.ntp.org iburst\n");
  auto c =
      doctor({"--root", root.string(), "--check", "clock", "--time-server", server.endpoint()});
  x = result(c, "clock");
  CHECK(contains(x, "fix", "services.chrony.enable = true;"));
  CHECK(contains(x, "fix", "chronyc makestep"));
  auto text = run_tsfleet(
      {"doctor", "--root", root.string(), "--check", "clock", "--time-server", server.endpoint()});
  CHECK(text.exit_code == 1);
  CHECK(text.out.find("FAIL") != std::string::npos);
  CHECK(text.out.find(server.endpoint()) != std::string::npos);
  CHECK(text.out.find("services.chrony.enable = true;") != std::string::npos);
  CHECK(server.queries() == 5);
}

TEST_CASE("doctor clock: a server that never answers WARNs, naming it and UDP being blocked",
          "[doctor][sntp]") {
  TempDir dir;
  auto root = tree(dir, "healthy-router");
  SntpResponder silent({.silent = true});
  auto start = std::chrono::steady_clock::now();
  auto r =
      doctor({"--root", root.string(), "--check", "clock", "--time-server", silent.endpoint()});
  auto took = std::chrono::steady_clock::now() - start;
  auto x = result(r, "clock");
  CHECK(x.at("outcome") == "WARN");
  CHECK(x.at("file") == silent.endpoint());
  CHECK(contains(x, "summary", "no NTP server answered"));
  CHECK(contains(x, "summary", "no answer from NTP server " + silent.endpoint() + " within 2 s"));
  CHECK(contains(x, "summary", "may be blocked"));
  CHECK(contains(x, "fix", "networking.timeServers = ["));
  CHECK(r.exit_code == 0);
  CHECK(silent.queries() == 1);
  CHECK(took < 10s);  // the deadline holds

  // A second --time-server is asked after the first gives nothing.
  SntpResponder good;
  auto two = doctor({"--root", root.string(), "--check", "clock", "--time-server",
                     silent.endpoint(), "--time-server", good.endpoint()});
  x = result(two, "clock");
  CHECK(x.at("outcome") == "PASS");
  CHECK(x.at("file") == good.endpoint());
  CHECK(contains(x, "detail", "before that: no answer from NTP server " + silent.endpoint()));
}

TEST_CASE(
    "doctor clock: a snapshot's configured servers are named but not asked without --time-server",
    "[doctor][sntp]") {
  TempDir dir;
  auto root = tree(dir, "healthy-router");
  SntpResponder server({.offset = 300s});
  write_file(root / "etc/chrony/chrony.conf",
             "server 127.0.0.1 port " + std::to_string(server.port()) + " iburst\n");
  auto r = doctor({"--root", root.string(), "--check", "clock"});
  auto x = result(r, "clock");
  CHECK(x.at("outcome") == "PASS");  // timesyncd's marker, as before
  CHECK(contains(x, "summary", "no NTP server was asked"));
  CHECK(contains(x, "summary", server.endpoint() + " (chrony in /etc/chrony/chrony.conf)"));
  CHECK(contains(x, "summary", "only with --time-server"));
  CHECK(server.queries() == 0);

  auto none = doctor({"--root", root.string(), "--check", "clock", "--time-server", "none"});
  CHECK(contains(result(none, "clock"), "summary", "no NTP server was asked: --time-server none"));

  auto bad = run_tsfleet({"doctor", "--time-server", "ntp.example.org:0"});
  CHECK(bad.exit_code == 2);
  CHECK(
      bad.err.find("--time-server ntp.example.org:0: port \"0\" is not a number from 1 to 65535") !=
      std::string::npos);
  auto mixed = run_tsfleet({"doctor", "--time-server", "none", "--time-server", "a.example"});
  CHECK(mixed.exit_code == 2);
  CHECK(mixed.err.find("--time-server none") != std::string::npos);
}

TEST_CASE("doctor runs against this machine's real / without crashing", "[doctor][smoke]") {
  TempDir dir;
  // The JSON run asks no NTP server; the text run asks this machine's configured ones, if any
  // (bounded by the per-server deadline, whatever the network does).
  auto r = run_tsfleet(
      {"doctor", "--json", "--socket", (dir / "absent.sock").string(), "--time-server", "none"});
  INFO(r.out << r.err);
  CHECK((r.exit_code == 0 || r.exit_code == 1));
  json j = json::parse(r.out);
  CHECK(j.at("schema_version") == 1);
  CHECK(j.at("results").size() >= 16);
  auto text = run_tsfleet({"doctor", "--socket", (dir / "absent.sock").string()});
  CHECK((text.exit_code == 0 || text.exit_code == 1));
  CHECK(text.out.find("passed,") != std::string::npos);
}
