#include <catch2/catch.hpp>

#include "tsfleet/error.h"
#include "tsfleet/json_source.h"

using namespace tsfleet;

namespace {
std::string error_of(std::string_view text) {
  try {
    parse_json_document(text, "f.json");
  } catch (const Error& e) {
    CHECK(e.category() == ErrorCategory::input);
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("positions are recorded for every value and key, by JSON path") {
  auto doc = parse_json_document("{\n  \"hosts\": {\n    \"p620\": { \"routes\": [\"a\", \"b\"] }\n  }\n}", "f.json");
  CHECK(doc.value["hosts"]["p620"]["routes"][1] == "b");
  auto p = doc.value_pos("hosts.p620.routes[1]");
  CHECK(p.line == 3);
  CHECK(p.col == 31);
  CHECK(doc.key_pos("hosts.p620").col == 5);
  CHECK(doc.where("hosts.p620.routes[1]") == "f.json:3:31");
  // A path that has no value of its own falls back to its nearest ancestor.
  CHECK(doc.where("hosts.p620.missing") == "f.json:3:13");
}

TEST_CASE("keys that are not identifiers are quoted in paths") {
  CHECK(json_path_member("hosts", "a.b") == "hosts[\"a.b\"]");
  CHECK(json_path_member("", "hosts") == "hosts");
  CHECK(json_path_index("x", 3) == "x[3]");
}

TEST_CASE("duplicate keys are errors that name both places") {
  auto msg = error_of("{\"hosts\": {\"a\": 1,\n \"a\": 2}}");
  CHECK(msg.find("f.json:2:2: duplicate key \"a\" in hosts (first defined at line 1, column 12)") != std::string::npos);
}

TEST_CASE("syntax errors name line and column and what was expected") {
  CHECK(error_of("{\"a\": 1,}").find("f.json:1:9: trailing comma") != std::string::npos);
  CHECK(error_of("{\"a\" 1}").find("f.json:1:6: unexpected '1': expected ':'") != std::string::npos);
  CHECK(error_of("[1, 2").find("f.json:1:6: unexpected the end of the file") != std::string::npos);
  CHECK(error_of("{\"a\": \"x").find("f.json:1:7: unterminated string") != std::string::npos);
  CHECK(error_of("{} x").find("f.json:1:4: unexpected text after the end") != std::string::npos);
  CHECK(error_of("{\"a\": tru}").find("f.json:1:7") != std::string::npos);
  CHECK(error_of("\"\\q\"").find("invalid escape") != std::string::npos);
  CHECK(error_of("01").find("unexpected text") != std::string::npos);
}

TEST_CASE("deep nesting is an error, not a stack overflow") {
  std::string deep(100000, '[');
  CHECK(error_of(deep).find("nested deeper than") != std::string::npos);
}

TEST_CASE("strings, numbers and unicode escapes decode like JSON says") {
  auto doc = parse_json_document(R"({"s": "a\"b\\c\u00e9\ud83d\ude00", "i": -12, "f": 1.5e2, "t": true, "n": null})", "f");
  CHECK(doc.value["s"] == "a\"b\\c\xc3\xa9\xf0\x9f\x98\x80");
  CHECK(doc.value["i"] == -12);
  CHECK(doc.value["f"] == 150.0);
  CHECK(doc.value["t"] == true);
  CHECK(doc.value["n"].is_null());
}
