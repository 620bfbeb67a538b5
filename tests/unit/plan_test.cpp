#include <catch2/catch.hpp>

#include <algorithm>

#include "tsfleet/error.h"
#include "tsfleet/plan.h"

using namespace tsfleet;

namespace {

Fleet fleet_of(const std::string& hosts, const std::string& release = "25.11") {
  return load_fleet("{\"schema_version\": 1, \"nixos_release\": \"" + release + "\", \"hosts\": {" + hosts + "}}", "f.json");
}

HostPlan plan_of(const std::string& host_body, const std::string& release = "25.11", const std::string& others = "") {
  Fleet f = fleet_of("\"h\": {" + host_body + "}" + others, release);
  return plan_host(f, f.hosts[0]);
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("routing features follow from what a host offers and what it uses") {
  struct Row {
    std::string body;
    RoutingFeatures expected;
  };
  std::vector<Row> rows = {
      {"\"roles\": [\"client\"]", RoutingFeatures::none},
      {"\"roles\": [\"client\"], \"accept_routes\": true", RoutingFeatures::client},
      {"\"roles\": [\"client\"], \"exit_node\": \"x\"", RoutingFeatures::client},
      {"\"roles\": [\"exit-node\"]", RoutingFeatures::server},
      {"\"roles\": [\"subnet-router\"], \"routes\": [\"10.0.0.0/24\"]", RoutingFeatures::server},
      {"\"roles\": [\"subnet-router\", \"exit-node\"], \"routes\": [\"10.0.0.0/24\"], \"accept_routes\": true", RoutingFeatures::both},
      {"\"roles\": [\"exit-node\"], \"exit_node\": \"x\"", RoutingFeatures::both},
  };
  for (const auto& r : rows) {
    INFO(r.body);
    HostPlan p = plan_of(r.body, "25.11", ", \"x\": {\"roles\": [\"exit-node\"]}");
    CHECK(p.routing == r.expected);
    CHECK(p.check_reverse_path.has_value() == (r.expected != RoutingFeatures::none));
  }
}

TEST_CASE("the seeds' routers and clients get the seeds' patterns") {
  auto plans = plan(load_default_fleet());
  REQUIRE(plans.size() == 4);
  for (const auto& p : plans) {
    INFO(p.name);
    bool router = p.name == "p620" || p.name == "p510";
    CHECK(p.routing == (router ? RoutingFeatures::both : RoutingFeatures::client));
    CHECK(p.open_firewall);
    CHECK(p.check_reverse_path == "loose");
    CHECK(p.trusted_interfaces == std::vector<std::string>{"tailscale0"});
    CHECK(p.expect.reachable_directly == router);
    CHECK(has(p.set_flags, "--accept-routes=true"));
    CHECK(has(p.set_flags, "--advertise-exit-node=true") == router);
    CHECK(p.secret.runtime_path == "/run/secrets/tailscale_preauth");
    CHECK(p.secret.restart_units == std::vector<std::string>{"tailscaled-autoconnect.service"});
  }
  CHECK(has(plans[0].set_flags, "--advertise-routes=192.168.1.0/24"));
  REQUIRE(plans[0].nat);
  CHECK(plans[0].nat->external_interface == "enp5s0");
  CHECK_FALSE(plans[1].nat);
}

TEST_CASE("login-time flags go to extraUpFlags, persistent prefs to extraSetFlags, one word each") {
  HostPlan p = plan_of(R"("roles": ["client"], "accept_routes": true, "tags": ["tag:a", "tag:b"], "login_server": "https://hs.example.com",
                         "auth_key": {"sops": "ts"}, "hostname": "web", "accept_dns": false, "netfilter_mode": "nodivert", "ssh": true,
                         "operator": "alice", "extra_up_flags": ["--timeout=30s"], "extra_set_flags": ["--webclient=true"])");
  CHECK(p.up_flags == std::vector<std::string>{"--login-server=https://hs.example.com", "--advertise-tags=tag:a,tag:b", "--timeout=30s"});
  CHECK(p.set_flags == std::vector<std::string>{"--hostname=web", "--accept-routes=true", "--accept-dns=false", "--netfilter-mode=nodivert",
                                                "--ssh=true", "--operator=alice", "--webclient=true"});
  for (const auto& f : p.up_flags) CHECK(f.find(' ') == std::string::npos);
}

TEST_CASE("the exit node to use is named by its tailnet hostname") {
  HostPlan p = plan_of("\"roles\": [\"client\"], \"exit_node\": \"gw\", \"exit_node_allow_lan_access\": true", "25.11",
                       ", \"gw\": {\"roles\": [\"exit-node\"], \"hostname\": \"gateway\"}");
  CHECK(p.prefs.exit_node == "gateway");
  CHECK(has(p.set_flags, "--exit-node=gateway"));
  CHECK(has(p.set_flags, "--exit-node-allow-lan-access=true"));
  CHECK(p.expect.uses_exit_node == "gateway");
}

TEST_CASE("without an auth key the module cannot log in, so login flags are left to tsfleet up") {
  HostPlan p = plan_of("\"roles\": [\"client\"], \"tags\": [\"tag:a\"]");
  CHECK(p.up_flags.empty());
  REQUIRE(p.notes.size() == 1);
  CHECK(p.notes[0].find("tsfleet up --host h") != std::string::npos);
}

TEST_CASE("release gates: fall back where the release allows, refuse where it cannot") {
  SECTION("24.05 has no extraSetFlags: prefs go to extraUpFlags") {
    HostPlan p = plan_of("\"roles\": [\"client\"], \"accept_routes\": true, \"auth_key\": {\"sops\": \"ts\"}", "24.05");
    CHECK(p.set_flags.empty());
    CHECK(has(p.up_flags, "--accept-routes=true"));
    CHECK(std::any_of(p.notes.begin(), p.notes.end(), [](auto& n) { return n.find("extraSetFlags (since 24.11)") != std::string::npos; }));
  }
  SECTION("23.05 has no openFirewall and no authKeyFile") {
    HostPlan p = plan_of("\"roles\": [\"client\"], \"auth_key\": {\"sops\": \"ts\"}", "23.05");
    CHECK_FALSE(p.open_firewall_option);
    CHECK_FALSE(p.auth_key_file_option);
    CHECK(p.up_flags.empty());
  }
  SECTION("no_logs: disableUpstreamLogging from 25.11, the daemon flag before, the environment before that") {
    CHECK(plan_of("\"roles\": [\"client\"], \"no_logs\": true", "25.11").disable_upstream_logging_option);
    HostPlan p2405 = plan_of("\"roles\": [\"client\"], \"no_logs\": true", "24.05");
    CHECK_FALSE(p2405.disable_upstream_logging_option);
    CHECK(p2405.daemon_flags == std::vector<std::string>{"--no-logs-no-support"});
    HostPlan p2311 = plan_of("\"roles\": [\"client\"], \"no_logs\": true", "23.11");
    CHECK(p2311.daemon_flags.empty());
    CHECK(p2311.daemon_env.at("TS_NO_LOGS_NO_SUPPORT") == "true");
  }
  SECTION("auth key parameters need 24.11") {
    CHECK_THROWS_WITH(plan_of("\"roles\": [\"client\"], \"auth_key\": {\"sops\": \"ts\", \"parameters\": {\"ephemeral\": false}}", "24.05"),
                      Catch::Contains("authKeyParameters, which NixOS 24.05 lacks (since 24.11)"));
  }
  SECTION("extra daemon flags need 24.05") {
    CHECK_THROWS_WITH(plan_of("\"roles\": [\"client\"], \"extra_daemon_flags\": [\"--verbose=1\"]", "23.11"),
                      Catch::Contains("extraDaemonFlags, which NixOS 23.11 lacks"));
  }
  SECTION("resolved settings names from 26.05") {
    CHECK(plan_of("\"roles\": [\"client\"], \"dns\": {\"mode\": \"resolved\"}", "26.05").dns.resolved_settings_style);
    CHECK_FALSE(plan_of("\"roles\": [\"client\"], \"dns\": {\"mode\": \"resolved\"}", "25.11").dns.resolved_settings_style);
  }
}

TEST_CASE("nftables hosts get the firewall-mode fix, userspace hosts trust no interface by default") {
  HostPlan n = plan_of("\"roles\": [\"client\"], \"nftables\": true");
  CHECK(n.nftables);
  CHECK(n.daemon_env.at("TS_DEBUG_FIREWALL_MODE") == "nftables");
  HostPlan u = plan_of("\"roles\": [\"client\"], \"userspace_networking\": true");
  CHECK(u.interface_name == "userspace-networking");
  CHECK(u.trusted_interfaces.empty());
}
