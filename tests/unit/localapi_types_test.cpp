// Lenient parsing of LocalAPI JSON (tailscale-api.md §3): missing keys, unknown keys, wrong types,
// NetfilterMode ints, malformed and truncated documents.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/fake_daemon.h"
#include "support/helpers.h"
#include "tsfleet/error.h"
#include "tsfleet/localapi/types.h"

using namespace tsfleet::localapi;
using tsfleet::Error;
using tsfleet::ErrorCategory;

namespace {

// The status object of the rich fixture scenario, with BackendState filled in as the daemon does.
std::string running_status_json() {
  auto scenario = nlohmann::json::parse(
      tsfleet::testing::read_file(tsfleet::testing::scenario("running.json")));
  auto s = scenario["status"];
  s["BackendState"] = "Running";
  s["Version"] = "1.102.3-t1a2b3c4d5-g6e7f8a9b0";
  return s.dump(1, '\t');
}

bool has_warning(const ParseWarnings& w, const std::string& path,
                 const std::string& fragment = "") {
  for (const auto& i : w.items)
    if (i.path == path && i.message.find(fragment) != std::string::npos) return true;
  return false;
}

std::string warnings_text(const ParseWarnings& w) {
  std::string out;
  for (const auto& i : w.items) out += i.path + ": " + i.message + "\n";
  return out;
}

}  // namespace

TEST_CASE("status: a realistic Running document parses into every field", "[localapi][types]") {
  ParseWarnings w;
  Status s = parse_status(running_status_json(), "GET /localapi/v0/status", &w);
  INFO(warnings_text(w));
  CHECK(w.empty());
  CHECK(s.backend_state == BackendState::running);
  CHECK(s.backend_state_text == "Running");
  CHECK(s.version == "1.102.3-t1a2b3c4d5-g6e7f8a9b0");
  CHECK(s.tun);
  CHECK(s.tailscale_ips == std::vector<std::string>{"100.64.0.1", "fd7a:115c:a1e0::1"});
  REQUIRE(s.has_self);
  CHECK(s.self.host_name == "gw1");
  CHECK(s.self.primary_routes == std::vector<std::string>{"192.168.10.0/24"});
  CHECK(s.self.tags == std::vector<std::string>{"tag:gateway"});
  REQUIRE(s.current_tailnet);
  CHECK(s.current_tailnet->magic_dns_suffix == "tail1234.ts.net");
  CHECK(s.current_tailnet->magic_dns_enabled);
  CHECK(s.magic_dns_suffix == "tail1234.ts.net");
  REQUIRE(s.health.size() == 1);
  CHECK(s.health[0].find("'nyc' relay server") != std::string::npos);
  CHECK(s.user.at("1001").login_name == "ops@example.org");
  REQUIRE(s.peer.size() == 7);

  auto find = [&](const std::string& host) -> const PeerStatus& {
    for (const auto& [k, p] : s.peer)
      if (p.host_name == host) return p;
    FAIL("no peer " << host);
    throw;
  };
  const auto& web = find("web1");
  CHECK(web.public_key.rfind("nodekey:", 0) == 0);
  CHECK(web.dns_name == "web1.tail1234.ts.net.");
  CHECK(web.cur_addr == "192.0.2.7:41641");
  CHECK(web.online);
  CHECK(web.active);
  CHECK(web.rx_bytes == 1024);
  CHECK(web.tx_bytes == 2048);
  CHECK(web.last_handshake == "2026-12-01T11:58:30.123456789Z");
  CHECK(web.key_expiry == "2027-05-30T10:00:00Z");
  CHECK(find("db1").relay == "fra");
  CHECK(find("db1").cur_addr.empty());
  CHECK(find("edge1").peer_relay == "198.51.100.4:7777:vni:12");
  CHECK_FALSE(find("laptop").online);
  CHECK(find("laptop").last_seen == "2026-11-28T09:15:00Z");
  CHECK(find("old-box").expired);
  CHECK(find("exit1").exit_node_option);
  CHECK(find("router1").primary_routes == std::vector<std::string>{"10.20.0.0/24"});
  CHECK(s.client_version);
}

TEST_CASE("status: every key is optional", "[localapi][types]") {
  ParseWarnings w;
  Status s = parse_status("{}", "GET /localapi/v0/status", &w);
  CHECK(w.empty());
  CHECK(s.backend_state == BackendState::unknown);
  CHECK_FALSE(s.has_self);
  CHECK(s.peer.empty());
  CHECK_FALSE(s.current_tailnet);

  // NeedsLogin: nulls where Go has nil slices, maps and pointers.
  s = parse_status(R"({"BackendState":"NeedsLogin","AuthURL":"https://login.tailscale.com/a/x",
      "TailscaleIPs":null,"Self":{"ID":"","HostName":"new1","TailscaleIPs":null,"Online":false},
      "Health":null,"CurrentTailnet":null,"Peer":null,"User":null,"ClientVersion":null})",
                   "status", &w);
  CHECK(w.empty());
  CHECK(s.backend_state == BackendState::needs_login);
  CHECK(s.auth_url == "https://login.tailscale.com/a/x");
  CHECK(s.has_self);
  CHECK(s.self.host_name == "new1");
  CHECK_FALSE(s.current_tailnet);
  CHECK_FALSE(s.client_version);
}

TEST_CASE("status: each BackendState string maps to its enum", "[localapi][types]") {
  for (auto [text, state] : std::vector<std::pair<std::string, BackendState>>{
           {"NoState", BackendState::no_state},
           {"NeedsLogin", BackendState::needs_login},
           {"NeedsMachineAuth", BackendState::needs_machine_auth},
           {"Stopped", BackendState::stopped},
           {"Starting", BackendState::starting},
           {"Running", BackendState::running},
           {"InUseOtherUser", BackendState::in_use_other_user},
           {"SomethingNew", BackendState::unknown}}) {
    Status s = parse_status(R"({"BackendState":")" + text + R"("})");
    CHECK(s.backend_state == state);
    CHECK(s.backend_state_text == text);
  }
  CHECK(to_string(BackendState::needs_machine_auth) == "NeedsMachineAuth");
  CHECK(backend_state_from_int(6) == BackendState::running);
  CHECK(backend_state_from_int(42) == BackendState::unknown);
}

TEST_CASE("status: unknown keys are ignored at every level", "[localapi][types]") {
  ParseWarnings w;
  Status s = parse_status(R"({
    "FutureField": {"deeply": [{"nested": [1, 2, {"x": null}]}]},
    "BackendState": "Running",
    "Self": {"HostName": "a", "NewThing": [true, false], "sshHostKeys": ["k"], "CapMap": {"c": [{"j": 1}]}},
    "Peer": {"nodekey:01": {"HostName": "p", "Location": {"Country": "DE", "Priority": 5}, "Online": true}},
    "ExtraRecords": [{"Name": "x", "Addr": "1.2.3.4"}]
  })",
                          "status", &w);
  INFO(warnings_text(w));
  CHECK(w.empty());
  CHECK(s.backend_state == BackendState::running);
  CHECK(s.self.host_name == "a");
  CHECK(s.peer.at("nodekey:01").online);
}

TEST_CASE("status: wrong types are skipped and reported with their key path", "[localapi][types]") {
  ParseWarnings w;
  Status s = parse_status(R"({
    "BackendState": 6,
    "TUN": "yes",
    "TailscaleIPs": ["100.64.0.1", 7, {"a": 1}, ["x"]],
    "Self": {"HostName": ["not", "a", "string"], "OS": "linux"},
    "Peer": {
      "nodekey:aa": {"HostName": "web1", "Online": "true", "RxBytes": 1.5, "TxBytes": 10},
      "nodekey:bb": 12
    },
    "Health": "everything is fine",
    "CurrentTailnet": [1, 2]
  })",
                          "GET /localapi/v0/status", &w);
  INFO(warnings_text(w));
  CHECK(has_warning(w, "BackendState", "expected string"));
  CHECK(has_warning(w, "TUN", "expected bool, got string"));
  CHECK(has_warning(w, "TailscaleIPs[1]"));
  CHECK(has_warning(w, "TailscaleIPs[2]"));
  CHECK(has_warning(w, "TailscaleIPs[3]"));
  CHECK(has_warning(w, "Self.HostName", "expected string, got array"));
  CHECK(has_warning(w, R"(Peer["nodekey:aa"].Online)", "expected bool"));
  CHECK(has_warning(w, R"(Peer["nodekey:aa"].RxBytes)", "expected integer"));
  CHECK(has_warning(w, R"(Peer["nodekey:bb"])"));
  CHECK(has_warning(w, "Health", "expected array, got string"));
  CHECK(has_warning(w, "CurrentTailnet", "expected object, got array"));
  // What was well-typed still arrives.
  CHECK(s.tailscale_ips == std::vector<std::string>{"100.64.0.1"});
  CHECK(s.self.os == "linux");
  CHECK(s.self.host_name.empty());
  CHECK(s.peer.at("nodekey:aa").host_name == "web1");
  CHECK(s.peer.at("nodekey:aa").tx_bytes == 10);
  CHECK_FALSE(s.peer.at("nodekey:aa").online);
  CHECK(s.backend_state == BackendState::unknown);
}

TEST_CASE("parsing without a warnings sink never throws for wrong types", "[localapi][types]") {
  CHECK_NOTHROW(parse_status(R"({"Peer":[1,2,3],"Self":"x","TUN":null,"User":{"1":"u"}})"));
  CHECK_NOTHROW(parse_prefs(R"({"AutoUpdate":"x","AppConnector":7,"AdvertiseRoutes":{"a":1}})"));
  CHECK_NOTHROW(parse_status("[]"));
  CHECK_NOTHROW(parse_status("42"));
  CHECK_NOTHROW(parse_status("\"Running\""));
}

TEST_CASE("a top-level value that is not an object is a warning, not an error",
          "[localapi][types]") {
  ParseWarnings w;
  Status s = parse_status("[1,2]", "status", &w);
  CHECK(has_warning(w, "(top level)", "expected object"));
  CHECK(s.backend_state == BackendState::unknown);
}

TEST_CASE("warnings are capped", "[localapi][types]") {
  std::string doc = R"({"Peer":{)";
  for (int i = 0; i < 500; ++i)
    doc += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":{\"Online\":1}";
  doc += "}}";
  ParseWarnings w;
  w.limit = 10;
  parse_status(doc, "status", &w);
  CHECK(w.items.size() == 10);
  CHECK(w.dropped == 490);
}

TEST_CASE("malformed and truncated JSON is an error naming the endpoint", "[localapi][types]") {
  const std::string full = running_status_json();
  try {
    parse_status(full.substr(0, full.size() / 2), "GET /localapi/v0/status");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::daemon);
    CHECK_THAT(e.what(),
               Catch::Contains("GET /localapi/v0/status") && Catch::Contains("truncated"));
  }
  try {
    parse_status(R"({"BackendState": "Running", "Self": {"ID": ,}})", "GET /localapi/v0/status");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::daemon);
    CHECK_THAT(e.what(), Catch::Contains("malformed JSON from GET /localapi/v0/status at byte"));
  }
  CHECK_THROWS_AS(parse_status("", "status"), Error);
  CHECK_THROWS_AS(parse_status("{} trailing", "status"), Error);
  CHECK_THROWS_AS(parse_prefs("{\"a\":\"\\ud800\"}", "prefs"), Error);  // lone surrogate
  CHECK_THROWS_AS(parse_notify("{\"State\":", "watch"), Error);
}

TEST_CASE("deep nesting in unknown keys neither crashes nor recurses", "[localapi][types]") {
  std::string deep = R"({"Unknown":)" + std::string(100000, '[') + std::string(100000, ']') +
                     R"(,"BackendState":"Stopped"})";
  Status s = parse_status(deep);
  CHECK(s.backend_state == BackendState::stopped);
}

TEST_CASE("prefs: NetfilterMode is an int, opt.Bool and nested objects", "[localapi][types]") {
  for (auto [n, mode] : std::vector<std::pair<int, NetfilterMode>>{{0, NetfilterMode::off},
                                                                   {1, NetfilterMode::nodivert},
                                                                   {2, NetfilterMode::on},
                                                                   {7, NetfilterMode::unknown}}) {
    Prefs p = parse_prefs(R"({"NetfilterMode":)" + std::to_string(n) + "}");
    CHECK(p.netfilter_mode == mode);
    CHECK(p.netfilter_mode_raw == n);
  }
  CHECK(to_string(NetfilterMode::nodivert) == "nodivert");
  CHECK(parse_prefs("{}").netfilter_mode == NetfilterMode::on);  // the default

  ParseWarnings w;
  Prefs p = parse_prefs(R"({
    "ControlURL": "https://controlplane.tailscale.com", "RouteAll": true, "ExitNodeID": "nEXIT1",
    "ExitNodeIP": "100.64.0.10", "CorpDNS": false, "WantRunning": true, "LoggedOut": false,
    "AdvertiseTags": ["tag:gateway"], "Hostname": "gw1", "AdvertiseRoutes": ["192.168.10.0/24", "0.0.0.0/0", "::/0"],
    "NoSNAT": true, "NoStatefulFiltering": null, "NetfilterMode": 1, "OperatorUser": "ops",
    "AutoUpdate": {"Check": true, "Apply": null}, "AppConnector": {"Advertise": true},
    "RelayServerPort": 40000, "Config": {"PrivateNodeKey": "privkey:…", "UserProfile": {"ID": 1}},
    "DriveShares": null, "AllowSingleHosts": true
  })",
                        "GET /localapi/v0/prefs", &w);
  INFO(warnings_text(w));
  CHECK(w.empty());
  CHECK(p.route_all);
  CHECK_FALSE(p.corp_dns);
  CHECK(p.exit_node_id == "nEXIT1");
  CHECK(p.exit_node_ip == "100.64.0.10");
  CHECK(p.advertise_routes.size() == 3);
  CHECK(p.advertise_tags == std::vector<std::string>{"tag:gateway"});
  CHECK(p.no_snat);
  CHECK_FALSE(p.no_stateful_filtering);
  CHECK(p.netfilter_mode == NetfilterMode::nodivert);
  CHECK(p.operator_user == "ops");
  CHECK(p.auto_update.check == true);
  CHECK_FALSE(p.auto_update.apply);
  CHECK(p.app_connector_advertise);
  CHECK(p.relay_server_port == 40000);

  w = {};
  p = parse_prefs(R"({"NetfilterMode":"on","WantRunning":1})", "prefs", &w);
  CHECK(has_warning(w, "NetfilterMode", "expected integer, got string"));
  CHECK(has_warning(w, "WantRunning", "expected bool"));
  CHECK(p.netfilter_mode == NetfilterMode::on);
}

TEST_CASE("MaskedPrefs JSON carries each engaged field and its Set flag", "[localapi][types]") {
  PrefsPatch patch;
  CHECK(patch.empty());
  patch.route_all = true;
  patch.advertise_routes = std::vector<std::string>{"10.0.0.0/24"};
  patch.netfilter_mode = NetfilterMode::nodivert;
  patch.exit_node_ip = "";
  CHECK_FALSE(patch.empty());
  auto j = nlohmann::json::parse(to_masked_prefs_json(patch));
  CHECK(j["RouteAll"] == true);
  CHECK(j["RouteAllSet"] == true);
  CHECK(j["AdvertiseRoutes"] == nlohmann::json::array({"10.0.0.0/24"}));
  CHECK(j["AdvertiseRoutesSet"] == true);
  CHECK(j["NetfilterMode"] == 1);
  CHECK(j["NetfilterModeSet"] == true);
  CHECK(j["ExitNodeIP"] == "");
  CHECK(j["ExitNodeIPSet"] == true);
  CHECK_FALSE(j.contains("CorpDNS"));
  CHECK_FALSE(j.contains("CorpDNSSet"));
}

TEST_CASE("ping results: direct, DERP, peer relay, errors", "[localapi][types]") {
  PingResult r =
      parse_ping_result(R"({"IP":"100.64.0.5","NodeIP":"100.64.0.5","NodeName":"web1","Err":"",
      "LatencySeconds":0.005123,"Endpoint":"192.0.2.7:41641","PeerRelay":"","DERPRegionID":0,"DERPRegionCode":""})");
  CHECK(r.node_name == "web1");
  CHECK(r.endpoint == "192.0.2.7:41641");
  CHECK(r.latency_seconds == Approx(0.005123));
  r = parse_ping_result(
      R"({"IP":"100.64.0.6","LatencySeconds":0,"DERPRegionID":4,"DERPRegionCode":"fra","PeerRelay":""})");
  CHECK(r.derp_region_id == 4);
  CHECK(r.derp_region_code == "fra");
  CHECK(r.latency_seconds == 0.0);  // an int where a float is expected is fine
  r = parse_ping_result(
      R"({"IP":"100.64.0.7","PeerRelay":"198.51.100.4:7777:vni:12","LatencySeconds":0.009})");
  CHECK(r.peer_relay == "198.51.100.4:7777:vni:12");
  r = parse_ping_result(
      R"({"IP":"100.64.0.1","Err":"100.64.0.1 is local Tailscale IP","IsLocalIP":true,"PeerRelay":""})");
  CHECK(r.is_local_ip);
  CHECK_FALSE(r.err.empty());
  r = parse_ping_result(R"({"IP":"100.64.0.5","PeerAPIPort":41641,"LatencySeconds":0.01})");
  CHECK(r.peer_api_port == 41641);
}

TEST_CASE("whois, derpmap and check-ip-forwarding", "[localapi][types]") {
  WhoIs w = parse_whois(
      R"({"Node":{"ID":123,"StableID":"nWEB1","Name":"web1.tail1234.ts.net.","User":1001,
      "Key":"nodekey:aa","Addresses":["100.64.0.5/32"],"Hostinfo":{"Hostname":"web1","OS":"linux","Services":[]},
      "Tags":["tag:web"]},"UserProfile":{"ID":1001,"LoginName":"ops@example.org","DisplayName":"Ops"},
      "CapMap":{"https://tailscale.com/cap/file-sharing":null,"cap:x":[{"a":1}]}})");
  CHECK(w.node.id == 123);
  CHECK(w.node.host_name == "web1");
  CHECK(w.node.os == "linux");
  CHECK(w.node.addresses == std::vector<std::string>{"100.64.0.5/32"});
  CHECK(w.user_profile.login_name == "ops@example.org");
  CHECK(w.cap_map_keys ==
        std::vector<std::string>{"https://tailscale.com/cap/file-sharing", "cap:x"});

  DerpMap m =
      parse_derp_map(R"({"Regions":{"4":{"RegionID":4,"RegionCode":"fra","RegionName":"Frankfurt",
      "Nodes":[{"Name":"4c","RegionID":4,"HostName":"derp4c.tailscale.com","IPv4":"134.122.77.138","STUNPort":0}]}}})");
  REQUIRE(m.regions.count("4"));
  CHECK(m.regions.at("4").region_code == "fra");
  REQUIRE(m.regions.at("4").nodes.size() == 1);
  CHECK(m.regions.at("4").nodes[0].host_name == "derp4c.tailscale.com");

  CHECK(parse_warning_object(R"({"Warning":""})", "check-ip-forwarding").empty());
  CHECK(parse_warning_object(R"({"Warning":"IPv4 forwarding is disabled"})", "x") ==
        "IPv4 forwarding is disabled");
}

TEST_CASE("notify: State ints, partial messages, health", "[localapi][types]") {
  Notify n = parse_notify(
      R"({"Version":"1.102.3","SessionID":"s1","State":2,"BrowseToURL":"https://login.tailscale.com/a/x"})");
  CHECK(n.version == "1.102.3");
  CHECK(n.state == BackendState::needs_login);
  CHECK(n.browse_to_url == "https://login.tailscale.com/a/x");
  CHECK_FALSE(n.prefs);
  CHECK_FALSE(n.login_finished);

  n = parse_notify(R"({"LoginFinished":{}})");
  CHECK(n.login_finished);
  CHECK_FALSE(n.state);

  n = parse_notify(
      R"({"State":null,"Prefs":{"WantRunning":true,"NetfilterMode":0},"ErrMessage":null})");
  CHECK_FALSE(n.state);
  CHECK_FALSE(n.err_message);
  REQUIRE(n.prefs);
  CHECK(n.prefs->netfilter_mode == NetfilterMode::off);

  n = parse_notify(
      R"({"Health":{"Warnings":{"derp-region-error":{"WarnableCode":"derp-region-error","Severity":"medium",
      "Title":"DERP region error","Text":"x","ImpactsConnectivity":true,"Args":{"a":"b"}}}},"Engine":{"RBytes":10,"WBytes":5}})");
  REQUIRE(n.health);
  CHECK(n.health->at("derp-region-error").severity == "medium");
  CHECK(n.health->at("derp-region-error").impacts_connectivity);
  REQUIRE(n.engine);
  CHECK(n.engine->rbytes == 10);

  n = parse_notify(R"({"State":99})");
  CHECK(n.state == BackendState::unknown);
  CHECK(n.state_raw == 99);
}

TEST_CASE("JSON error bodies: error and Error", "[localapi][types]") {
  CHECK(json_error_message(R"({"error":"no matching peer"})") == "no matching peer");
  CHECK(json_error_message(R"({"Error":"bad prefs"})") == "bad prefs");
  CHECK_FALSE(json_error_message("status access denied\n"));
  CHECK_FALSE(json_error_message("{}"));
  CHECK_FALSE(json_error_message("{not json"));
  CHECK_FALSE(json_error_message(""));
}

TEST_CASE("streaming status hands each peer over without keeping it", "[localapi][types]") {
  std::vector<std::string> hosts;
  ParseWarnings w;
  Status s = parse_status_streaming(
      running_status_json(),
      [&](const std::string& key, PeerStatus&& p) {
        CHECK(key == p.public_key);
        hosts.push_back(p.host_name);
      },
      "GET /localapi/v0/status", &w);
  CHECK(w.empty());
  CHECK(s.backend_state == BackendState::running);
  CHECK(s.peer.empty());
  CHECK(s.self.host_name == "gw1");
  CHECK(hosts.size() == 7);
  // A peer whose fields are not all present starts from defaults, not from the previous peer.
  std::vector<PeerStatus> got;
  parse_status_streaming(R"({"Peer":{"a":{"HostName":"x","Online":true},"b":{"OS":"linux"}}})",
                         [&](const std::string&, PeerStatus&& p) { got.push_back(std::move(p)); });
  REQUIRE(got.size() == 2);
  CHECK(got[1].host_name.empty());
  CHECK_FALSE(got[1].online);
  CHECK_THROWS_AS(parse_status_streaming(R"({"Peer":{"a":{"HostName":)",
                                         [](const std::string&, PeerStatus&&) {}),
                  Error);
}
