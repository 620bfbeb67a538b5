// nix/module.nix (services.tsfleet) with the real nix-instantiate: it parses, the flake exports
// it, and evaluated with the stub lib (tests/fixtures/nix-stub) it produces the systemd units we
// mean, whose ExecStart the real tsfleet binary accepts and runs against the fake daemon.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/fake_daemon.h"
#include "support/helpers.h"
#include "support/nix_eval.h"

using nlohmann::json;
using namespace tsfleet::testing;

namespace {

std::string nix_str(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\' || c == '$') out += '\\';
    out += c;
  }
  return out + "\"";
}

const std::string kPkgs =
    "{ tsfleet = { outPath = \"/nix/store/0000-tsfleet\"; }; systemd = { outPath = "
    "\"/nix/store/0000-systemd\"; }; }";

// Runs eval.nix on nix/module.nix with `settings` (a Nix expression for services.tsfleet).
// Returns {exit code, JSON or stderr}.
std::pair<int, std::string> eval_raw(const std::string& settings) {
  REQUIRE(have_program("nix-instantiate"));
  std::string expr =
      "import " + nix_str((source_dir() / "tests/fixtures/nix-stub/eval.nix").string()) +
      " { module = " + nix_str((source_dir() / "nix/module.nix").string()) +
      "; settings = { services.tsfleet = " + settings + "; }; pkgs = " + kPkgs + "; }";
  auto r = run_process(
      {"nix-instantiate", "--store", "dummy://", "--eval", "--strict", "--json", "-E", expr});
  return {r.exit_code, r.exit_code == 0 ? r.out : r.err};
}

json eval_module(const std::string& settings) {
  auto [code, text] = eval_raw(settings);
  INFO(text);
  REQUIRE(code == 0);
  return json::parse(text)["config"];
}

// Splits a systemd ExecStart made of "…" words (\\, \", %%, $$ escaped) into argv.
std::vector<std::string> exec_words(const std::string& line) {
  std::vector<std::string> words;
  std::size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    REQUIRE(line[i] == '"');
    std::string w;
    for (++i; i < line.size() && line[i] != '"'; ++i) {
      if (line[i] == '\\' && i + 1 < line.size())
        w += line[++i];
      else if ((line[i] == '%' || line[i] == '$') && i + 1 < line.size() && line[i + 1] == line[i])
        w += line[i++];
      else
        w += line[i];
    }
    REQUIRE(i < line.size());
    ++i;
    words.push_back(w);
  }
  return words;
}

}  // namespace

TEST_CASE("nix/module.nix parses and the flake exports it as nixosModules.default",
          "[nix-module]") {
  CHECK(nix_parse_error(source_dir() / "nix/module.nix").empty());
  CHECK(nix_parse_error(source_dir() / "flake.nix").empty());
  // The flake's outputs with a stub nixpkgs (only what nixosModules needs): evaluated, the
  // exported module gives the same units as nix/module.nix.
  auto eval_of = [](const std::string& module) {
    return "(import " + nix_str((source_dir() / "tests/fixtures/nix-stub/eval.nix").string()) +
           " { module = " + module +
           "; settings = { services.tsfleet.healthCheck.enable = true; }; pkgs = " + kPkgs +
           "; }).config";
  };
  std::string expr = "let flake = import " + nix_str((source_dir() / "flake.nix").string()) +
                     "; out = flake.outputs { self = out; nixpkgs = { }; }; in " +
                     eval_of("out.nixosModules.default") +
                     " == " + eval_of(nix_str((source_dir() / "nix/module.nix").string())) +
                     " && " + eval_of("out.nixosModules.default") + " != { }";
  auto r = run_process(
      {"nix-instantiate", "--store", "dummy://", "--eval", "--strict", "--json", "-E", expr});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "true");
}

TEST_CASE("services.tsfleet: nothing enabled, no units", "[nix-module]") {
  CHECK(eval_module("{ }") == json::object());
}

TEST_CASE("services.tsfleet.monitor: the service's ExecStart, user and hardening", "[nix-module]") {
  json watch = eval_module("{ monitor.enable = true; }")["systemd"]["services"]["tsfleet-monitor"];
  CHECK(exec_words(watch["serviceConfig"]["ExecStart"]) ==
        std::vector<std::string>{"/nix/store/0000-tsfleet/bin/tsfleet", "monitor", "--interval",
                                 "30s", "--format", "text", "--expiry-warning", "14d", "--listen",
                                 "127.0.0.1:9101"});
  CHECK(watch["serviceConfig"]["DynamicUser"] == true);  // watching needs no root
  CHECK(watch["serviceConfig"]["Restart"] == "on-failure");
  CHECK(watch["wantedBy"] == json::array({"multi-user.target"}));
  CHECK(watch["after"][0] == "tailscaled.service");

  json full = eval_module(
      "{ socket = \"/run/tailscale/tailscaled.sock\"; fleetFile = \"/etc/tsfleet/tsfleet.json\"; "
      "monitor = { enable = true; interval = \"5s\"; format = \"json\"; listenAddress = "
      "\"[::1]:9101\"; "
      "textfile = \"/var/lib/prometheus-node-exporter-text-files/tsfleet.prom\"; onEvent = "
      "\"/etc/tsfleet/alert --to ops\"; "
      "hookTimeout = \"3s\"; expiryWarning = \"30d\"; restartAfter = 4; maxRestarts = 2; "
      "extraArgs = [ \"--timeout\" \"100%$x\" ]; }; }")["systemd"]["services"]["tsfleet-monitor"];
  CHECK(exec_words(full["serviceConfig"]["ExecStart"]) ==
        std::vector<std::string>{"/nix/store/0000-tsfleet/bin/tsfleet",
                                 "monitor",
                                 "--interval",
                                 "5s",
                                 "--format",
                                 "json",
                                 "--expiry-warning",
                                 "30d",
                                 "--socket",
                                 "/run/tailscale/tailscaled.sock",
                                 "--fleet",
                                 "/etc/tsfleet/tsfleet.json",
                                 "--listen",
                                 "[::1]:9101",
                                 "--textfile",
                                 "/var/lib/prometheus-node-exporter-text-files/tsfleet.prom",
                                 "--on-event",
                                 "/etc/tsfleet/alert --to ops",
                                 "--hook-timeout",
                                 "3s",
                                 "--restart-after",
                                 "4",
                                 "--max-restarts",
                                 "2",
                                 "--systemctl",
                                 "/nix/store/0000-systemd/bin/systemctl",
                                 "--timeout",
                                 "100%$x"});
  // systemd would expand % and $: they are doubled.
  CHECK(full["serviceConfig"]["ExecStart"].get<std::string>().find("\"100%%$$x\"") !=
        std::string::npos);
  CHECK(full["serviceConfig"]["DynamicUser"] == false);  // restarts need root
  CHECK(full["serviceConfig"]["ReadWritePaths"] ==
        json::array({"/var/lib/prometheus-node-exporter-text-files"}));
}

TEST_CASE("services.tsfleet.healthCheck: a oneshot and its timer, like the seed's",
          "[nix-module]") {
  json cfg = eval_module("{ healthCheck = { enable = true; interval = \"10min\"; }; }");
  json svc = cfg["systemd"]["services"]["tsfleet-health"];
  CHECK(svc["serviceConfig"]["Type"] == "oneshot");
  CHECK(exec_words(svc["serviceConfig"]["ExecStart"]) ==
        std::vector<std::string>{"/nix/store/0000-tsfleet/bin/tsfleet", "monitor", "--once",
                                 "--restart-after", "1", "--systemctl",
                                 "/nix/store/0000-systemd/bin/systemctl"});
  json timer = cfg["systemd"]["timers"]["tsfleet-health"];
  CHECK(timer["wantedBy"] == json::array({"timers.target"}));
  CHECK(timer["timerConfig"] == json({{"OnBootSec", "10min"},
                                      {"OnUnitActiveSec", "10min"},
                                      {"Unit", "tsfleet-health.service"}}));
  CHECK_FALSE(cfg["systemd"]["services"].contains("tsfleet-monitor"));

  json no_restart = eval_module("{ healthCheck = { enable = true; restart = false; }; }");
  CHECK(exec_words(
            no_restart["systemd"]["services"]["tsfleet-health"]["serviceConfig"]["ExecStart"]) ==
        std::vector<std::string>{"/nix/store/0000-tsfleet/bin/tsfleet", "monitor", "--once"});
  CHECK(no_restart["systemd"]["timers"]["tsfleet-health"]["timerConfig"]["OnBootSec"] == "5min");
}

TEST_CASE("services.tsfleet: wrong types and unknown options fail evaluation, naming the option",
          "[nix-module]") {
  auto [c1, e1] = eval_raw("{ monitor.restartAfter = -1; }");
  CHECK(c1 != 0);
  CHECK(e1.find("services.tsfleet.monitor.restartAfter") != std::string::npos);
  auto [c2, e2] = eval_raw("{ monitor.format = \"xml\"; }");
  CHECK(c2 != 0);
  CHECK(e2.find("services.tsfleet.monitor.format") != std::string::npos);
  auto [c3, e3] = eval_raw("{ monitor.listen = \"127.0.0.1:9101\"; }");
  CHECK(c3 != 0);
  CHECK(e3.find("no such option: services.tsfleet.monitor.listen") != std::string::npos);
}

TEST_CASE("the units' ExecStart runs with the real tsfleet against the fake daemon",
          "[nix-module]") {
  FakeDaemon d(scenario("monitor-fleet.json"), {.state = "Stopped"});
  TempDir dir;
  auto record = dir / "systemctl.log";
  auto systemctl = dir / "systemctl";
  write_file(systemctl, "#!/bin/sh\necho \"$@\" >> '" + record.string() + "'\n");
  std::filesystem::permissions(systemctl, std::filesystem::perms::owner_all);
  auto substitute = [&](std::vector<std::string> argv) {
    std::vector<std::string> args;
    for (std::size_t i = 1; i < argv.size(); ++i)
      args.push_back(argv[i] == "/nix/store/0000-systemd/bin/systemctl" ? systemctl.string()
                                                                        : argv[i]);
    return args;
  };

  json health =
      eval_module("{ socket = " + nix_str(d.socket().string()) + "; healthCheck.enable = true; }");
  auto args = substitute(
      exec_words(health["systemd"]["services"]["tsfleet-health"]["serviceConfig"]["ExecStart"]));
  auto stopped = run_tsfleet(args);
  CHECK(stopped.exit_code == 1);  // the unit fails: visible in `systemctl --failed`
  CHECK(read_file(record) == "restart tailscaled.service\n");
  d.set_state("Running");
  CHECK(run_tsfleet(args).exit_code == 0);
  CHECK(read_file(record) == "restart tailscaled.service\n");  // healthy: no restart

  // Every flag the monitor service passes is one tsfleet knows (one tick via extraArgs).
  json mon = eval_module(
      "{ socket = " + nix_str(d.socket().string()) +
      "; monitor = { enable = true; listenAddress = null; format = \"json\"; textfile = " +
      nix_str((dir / "tsfleet.prom").string()) +
      "; onEvent = \"/bin/true\"; restartAfter = 2; "
      "extraArgs = [ \"--once\" ]; }; }");
  auto margs = substitute(
      exec_words(mon["systemd"]["services"]["tsfleet-monitor"]["serviceConfig"]["ExecStart"]));
  auto once = run_tsfleet(margs);
  INFO(once.err);
  CHECK(once.exit_code == 0);
  CHECK(once.out.find("\"kind\":\"monitor_started\"") != std::string::npos);
  CHECK(read_file(dir / "tsfleet.prom").find("tsfleet_daemon_up 1\n") != std::string::npos);
}
