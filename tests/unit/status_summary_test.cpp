// The status summary: matching inventory hosts to peers, presence, path, key expiry window,
// expectations, and the RFC 3339 reader it relies on.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support/helpers.h"
#include "tsfleet/error.h"
#include "tsfleet/fleet.h"
#include "tsfleet/plan.h"
#include "tsfleet/status/fleet_status.h"

using namespace tsfleet;
using namespace tsfleet::status;
using nlohmann::json;

namespace {

std::vector<HostPlan> plans_of(const char* hosts) {
  std::string text = std::string(R"({"schema_version": 1, "tailnet": "tail1234.ts.net", "nixos_release": "25.11", "hosts": )") + hosts + "}";
  static std::vector<Fleet> keep;  // plans refer to nothing in the fleet, but keep it simple
  keep.push_back(load_fleet(text, "test.json"));
  return plan(keep.back());
}

json peer(const std::string& host, const std::string& dns, bool online = true) {
  return {{"HostName", host}, {"DNSName", dns}, {"Online", online}, {"TailscaleIPs", {"100.64.0.9"}},
          {"AllowedIPs", {"100.64.0.9/32"}}, {"Relay", "fra"}, {"KeyExpiry", "2027-01-01T00:00:00Z"}};
}

// 2026-12-01T12:00:00Z
constexpr std::int64_t kNow = 1796126400;

const HostRow* row(const FleetStatus& s, const std::string& name) {
  for (const auto& r : s.rows)
    if (r.name == name) return &r;
  return nullptr;
}

}  // namespace

TEST_CASE("parse_rfc3339 reads Go's times and refuses the rest", "[status]") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2026-12-01T12:00:00Z") == kNow);
  CHECK(parse_rfc3339("2026-12-01T11:58:30.123456789Z") == kNow - 90);
  CHECK(parse_rfc3339("2026-12-01T14:00:00+02:00") == kNow);
  CHECK(parse_rfc3339("2026-12-01T07:00:00-05:00") == kNow);
  CHECK_FALSE(parse_rfc3339("0001-01-01T00:00:00Z"));  // Go's zero time: never
  for (const char* bad : {"", "2026-12-01", "2026-12-01T12:00:00", "2026-13-01T12:00:00Z", "2026-12-01T12:00:00.Z",
                          "2026-12-01T12:00:00Zjunk", "2026-12-01T12:00:00+0200", "x026-12-01T12:00:00Z"})
    CHECK_FALSE(parse_rfc3339(bad));
}

TEST_CASE("status summary: hosts are matched by DNS label first, then HostName, using prefs.hostname", "[status]") {
  auto plans = plans_of(R"({"gw":   {"roles": ["client"], "hostname": "gateway"},
                             "web":  {"roles": ["client"]},
                             "db":   {"roles": ["client"]},
                             "gone": {"roles": ["client"]}})");
  json st = {{"BackendState", "Running"},
             {"Self", peer("gateway", "gateway.tail1234.ts.net.")},
             {"Peer", {{"nodekey:1", peer("some-os-name", "web.tail1234.ts.net.")},  // DNS label match
                       {"nodekey:2", peer("db", "db-1.tail1234.ts.net.")},           // HostName match
                       {"nodekey:3", peer("stranger", "stranger.tail1234.ts.net.")}}}};
  FleetStatus s = summarize_status_json(st.dump(), plans, {14, kNow});
  REQUIRE(s.rows.size() == 5);
  CHECK(s.rows[0].name == "gw");
  CHECK(s.rows[0].presence == Presence::self);
  CHECK(s.rows[0].path == PathKind::local);
  CHECK(row(s, "web")->presence == Presence::present);
  CHECK(row(s, "db")->presence == Presence::present);
  CHECK(row(s, "gone")->presence == Presence::missing);
  CHECK(row(s, "stranger")->presence == Presence::unexpected);
  CHECK_FALSE(s.ok());
  auto lines = s.problem_lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("gone: missing", 0) == 0);
}

TEST_CASE("status summary: an old node with the same name does not hide the live one", "[status]") {
  auto plans = plans_of(R"({"web": {"roles": ["client"]}})");
  json st = {{"BackendState", "Running"},
             {"Self", peer("me", "me.tail1234.ts.net.")},
             {"Peer", {{"nodekey:1", peer("web", "web-1.tail1234.ts.net.", false)},  // HostName only, offline
                       {"nodekey:2", peer("web", "web.tail1234.ts.net.", true)}}}};
  FleetStatus s = summarize_status_json(st.dump(), plans, {14, kNow});
  CHECK(row(s, "web")->online);
  CHECK(row(s, "web")->dns_name == "web.tail1234.ts.net.");
  const HostRow* old = row(s, "web-1");
  REQUIRE(old);
  CHECK(old->presence == Presence::unexpected);
  REQUIRE(old->warnings.size() == 1);
  CHECK(old->warnings[0].find("also answers to the inventory name web") != std::string::npos);
  CHECK(s.ok());
}

TEST_CASE("status summary: offline and expired keys fail, keys in the window warn", "[status]") {
  auto plans = plans_of(R"({"a": {"roles": ["client"]}, "b": {"roles": ["client"]}, "c": {"roles": ["client"]}})");
  json a = peer("a", "a.x.", false);
  a["LastSeen"] = "2026-11-30T12:00:00Z";
  json b = peer("b", "b.x.");
  b["KeyExpiry"] = "2026-11-30T00:00:00Z";
  json c = peer("c", "c.x.");
  c["KeyExpiry"] = "2026-12-06T12:00:00Z";  // 5 days
  json st = {{"BackendState", "Running"}, {"Self", peer("me", "me.x.")}, {"Peer", {{"k:a", a}, {"k:b", b}, {"k:c", c}}}};
  FleetStatus s = summarize_status_json(st.dump(), plans, {14, kNow});
  CHECK(row(s, "a")->problems == std::vector<std::string>{"offline (last seen 2026-11-30T12:00:00Z)"});
  CHECK(row(s, "b")->key == KeyState::expired);
  CHECK(row(s, "b")->problems.size() == 1);
  CHECK(row(s, "c")->key == KeyState::expiring);
  CHECK(row(s, "c")->key_days_left == 5);
  CHECK(row(s, "c")->problems.empty());
  CHECK(row(s, "c")->warnings.size() == 1);
  FleetStatus narrow = summarize_status_json(st.dump(), plans, {3, kNow});
  CHECK(row(narrow, "c")->key == KeyState::ok);
}

TEST_CASE("status summary: path precedence, routes and router expectations", "[status]") {
  auto plans = plans_of(R"({"r": {"roles": ["subnet-router"], "routes": ["10.0.0.0/24", "10.0.1.0/24"]},
                           "d": {"roles": ["client"]}, "p": {"roles": ["client"]}})");
  json r = peer("r", "r.x.");  // DERP only
  r["AllowedIPs"] = {"100.64.0.9/32", "10.0.0.0/24", "10.9.0.0/16"};
  r["PrimaryRoutes"] = json::array();
  json d = peer("d", "d.x.");
  d["CurAddr"] = "192.0.2.1:41641";
  d["PeerRelay"] = "198.51.100.1:7777:vni:1";
  json p = peer("p", "p.x.");
  p["PeerRelay"] = "198.51.100.1:7777:vni:1";
  json st = {{"BackendState", "Running"}, {"Self", peer("me", "me.x.")}, {"Peer", {{"k:r", r}, {"k:d", d}, {"k:p", p}}}};
  FleetStatus s = summarize_status_json(st.dump(), plans, {14, kNow});
  CHECK(row(s, "d")->path == PathKind::direct);
  CHECK(row(s, "p")->path == PathKind::peer_relay);
  const HostRow* rr = row(s, "r");
  CHECK(rr->path == PathKind::derp);
  CHECK(rr->routes == std::vector<std::string>{"10.0.0.0/24", "10.9.0.0/16"});
  std::string all;
  for (const auto& w : rr->warnings) all += w + "\n";
  CHECK(all.find("relayed through DERP (fra)") != std::string::npos);
  CHECK(all.find("route 10.0.0.0/24 is served by another router") != std::string::npos);
  CHECK(all.find("route 10.0.1.0/24 is not approved") != std::string::npos);
  CHECK(all.find("serves route 10.9.0.0/16") != std::string::npos);
  CHECK(s.ok());  // warnings do not fail
}

TEST_CASE("status summary: not Running reports the state, not every host missing", "[status]") {
  auto plans = plans_of(R"({"a": {"roles": ["client"]}})");
  json st = {{"BackendState", "NeedsLogin"}, {"AuthURL", "https://login.example/a/1"}, {"Self", peer("a", "")}, {"Peer", nullptr}};
  FleetStatus s = summarize_status_json(st.dump(), plans, {14, kNow});
  CHECK_FALSE(s.ok());
  auto lines = s.problem_lines();
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "NeedsLogin: this node is logged out: run `tsfleet up` (or log in at https://login.example/a/1)");
  json j = render_status_json(s, "test.json");
  CHECK(j["schema_version"] == 1);
  CHECK(j["ok"] == false);
}

TEST_CASE("status summary: malformed status JSON is a daemon error naming the source", "[status]") {
  auto plans = plans_of(R"({"a": {"roles": ["client"]}})");
  try {
    summarize_status_json(R"({"BackendState": "Running", "Peer": {"k": )", plans, {}, "GET /localapi/v0/status");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::daemon);
    CHECK(std::string(e.what()).find("GET /localapi/v0/status") != std::string::npos);
  }
}

TEST_CASE("status summary: the streamed JSON report is the same document as the JSON tree", "[status]") {
  auto plans = plans_of(R"({"a": {"roles": ["client"]}, "gone": {"roles": ["client"]}})");
  json st = {{"BackendState", "Running"}, {"Self", peer("me", "me.x.")},
             {"Peer", {{"k:a", peer("a", "a.x.")}, {"k:z", peer("zed \"quoted\"", "")}}}};
  FleetStatus s = summarize_status_json(st.dump(), plans, {14, kNow});
  json tree = render_status_json(s, "fleet \"file\".json");
  json streamed = json::parse(render_status_json_text(s, "fleet \"file\".json"));
  CHECK(streamed == tree);
  CHECK(streamed["hosts"].size() == 4);
  FleetStatus empty = summarize_status_json(R"({"BackendState": "Stopped"})", {}, {14, kNow});
  CHECK(json::parse(render_status_json_text(empty, "x")) == render_status_json(empty, "x"));
}
