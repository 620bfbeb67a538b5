// The Prometheus text format: reading tailscaled's usermetrics and writing monitor's metrics.
#include <catch2/catch.hpp>
#include <cmath>

#include "tsfleet/monitor/prometheus.h"

using namespace tsfleet::monitor::prom;

namespace {

const Family* find(const ParseResult& r, const std::string& name) {
  for (const auto& f : r.families)
    if (f.name == name) return &f;
  return nullptr;
}

}  // namespace

TEST_CASE("usermetrics text: families, types, help, labels and values", "[monitor][prometheus]") {
  auto r = parse_text(
      "# TYPE tailscaled_health_messages gauge\n"
      "# HELP tailscaled_health_messages Number of health messages broken down by type.\n"
      "tailscaled_health_messages{type=\"warning\"} 1\n"
      "# HELP tailscaled_inbound_bytes_total Counts the number of bytes received from other peers\n"
      "# TYPE tailscaled_inbound_bytes_total counter\n"
      "tailscaled_inbound_bytes_total{path=\"direct_ipv4\"} 123456\n"
      "tailscaled_inbound_bytes_total{path=\"derp\"} 7.5e3 1700000000000\n"
      "tailscaled_home_derp_region_id 4\n");
  CHECK(r.errors.empty());
  REQUIRE(r.families.size() == 3);
  const Family* h = find(r, "tailscaled_health_messages");
  REQUIRE(h);
  CHECK(h->type == "gauge");
  CHECK(h->help == "Number of health messages broken down by type.");
  REQUIRE(h->samples.size() == 1);
  CHECK(h->samples[0].labels == Labels{{"type", "warning"}});
  const Family* in = find(r, "tailscaled_inbound_bytes_total");
  REQUIRE(in);
  CHECK(in->type == "counter");
  REQUIRE(in->samples.size() == 2);
  CHECK(in->samples[1].value == 7500);
  CHECK(in->samples[1].timestamp_ms == 1700000000000);
  const Family* derp = find(r, "tailscaled_home_derp_region_id");
  REQUIRE(derp);
  CHECK(derp->type == "untyped");
}

TEST_CASE("label values with escapes, special values, histogram suffixes",
          "[monitor][prometheus]") {
  auto r = parse_text(
      "# TYPE lat histogram\n"
      "lat_bucket{le=\"0.1\"} 2\nlat_bucket{le=\"+Inf\"} 3\nlat_sum 0.4\nlat_count 3\n"
      "x{a=\"q\\\"uote\",b=\"back\\\\slash\",c=\"new\\nline\"} NaN\n"
      "y +Inf\nz -Inf\n");
  CHECK(r.errors.empty());
  const Family* lat = find(r, "lat");
  REQUIRE(lat);
  CHECK(lat->samples.size() == 4);
  const Family* x = find(r, "x");
  REQUIRE(x);
  CHECK(x->samples[0].labels == Labels{{"a", "q\"uote"}, {"b", "back\\slash"}, {"c", "new\nline"}});
  CHECK(std::isnan(x->samples[0].value));
  CHECK(std::isinf(find(r, "y")->samples[0].value));
}

TEST_CASE("bad lines are skipped with a line number, never fatal", "[monitor][prometheus]") {
  auto r = parse_text(
      "ok 1\n{nope} 2\nbad{a=\"x} 3\nv{a=\"x\"} notanumber\nw 1 2 3\n# TYPE t wobble\nok2 2\n");
  CHECK(r.families.size() == 2);
  REQUIRE(r.errors.size() == 5);
  CHECK(r.errors[0].rfind("line 2:", 0) == 0);
}

TEST_CASE("the parser bounds what it keeps", "[monitor][prometheus]") {
  std::string text;
  for (int i = 0; i < 50; ++i) text += "m{i=\"" + std::to_string(i) + "\"} 1\n";
  ParseLimits limits;
  limits.max_samples = 10;
  auto r = parse_text(text, limits);
  REQUIRE(r.families.size() == 1);
  CHECK(r.families[0].samples.size() == 10);
  CHECK(r.dropped_samples == 40);
}

TEST_CASE("writer: HELP/TYPE lines, escaped labels, values", "[monitor][prometheus]") {
  Writer w;
  w.family("tsfleet_x", "Help with a \\ and\na newline.", "gauge");
  w.sample("tsfleet_x", {{"peer", "we\"ird\\name\n"}}, 1);
  w.sample("tsfleet_x", 0.25);
  w.sample("tsfleet_x", 1e20);
  CHECK(w.text() ==
        "# HELP tsfleet_x Help with a \\\\ and\\na newline.\n"
        "# TYPE tsfleet_x gauge\n"
        "tsfleet_x{peer=\"we\\\"ird\\\\name\\n\"} 1\n"
        "tsfleet_x 0.25\n"
        "tsfleet_x 1e+20\n");
  CHECK(escape_label_value(std::string("a\xff"
                                       "b")) ==
        "a\xEF\xBF\xBD"
        "b");  // invalid UTF-8
}

TEST_CASE("passing the daemon's families through: prefix, one family each, no duplicates",
          "[monitor][prometheus]") {
  auto r = parse_text(
      "tailscaled_a 1\n"
      "other_metric 2\n"
      "tailscaled_b{x=\"1\"} 3\ntailscaled_b{x=\"1\"} 4\n"
      "tailscaled_a 5\n");
  Writer w;
  write_families(w, r.families, "tailscaled_", "from the daemon:");
  CHECK(w.text() ==
        "# HELP tailscaled_a from the daemon: tailscaled_a\n# TYPE tailscaled_a "
        "untyped\ntailscaled_a 1\n"
        "# HELP tailscaled_b from the daemon: tailscaled_b\n# TYPE tailscaled_b "
        "untyped\ntailscaled_b{x=\"1\"} 3\n");
}

TEST_CASE("passing through: control characters in HELP become spaces, trimmed (found by fuzzing)",
          "[monitor][prometheus]") {
  auto r = parse_text(std::string(
      "# HELP tailscaled_x Number of pe\x01\n# TYPE tailscaled_x gauge\ntailscaled_x 1\n"));
  Writer w;
  write_families(w, r.families, "tailscaled_", "d");
  CHECK(w.text() ==
        "# HELP tailscaled_x Number of pe\n# TYPE tailscaled_x gauge\ntailscaled_x 1\n");
}

TEST_CASE(
    "passing through: label values that write the same after UTF-8 repair are one series (found by "
    "fuzzing)",
    "[monitor][prometheus]") {
  auto r = parse_text(std::string("tailscaled_y{a=\"x\xff\"} 1\ntailscaled_y{a=\"x\xfe\"} 2\n"));
  Writer w;
  write_families(w, r.families, "tailscaled_", "d");
  CHECK(w.text() ==
        "# HELP tailscaled_y d tailscaled_y\n# TYPE tailscaled_y "
        "untyped\ntailscaled_y{a=\"x\xEF\xBF\xBD\"} 1\n");
}
