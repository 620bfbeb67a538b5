// The JSON Schema shipped for editors must describe exactly what the loader accepts.
#include <catch2/catch.hpp>

#include <set>

#include <nlohmann/json.hpp>

#include "support/helpers.h"
#include "tsfleet/fleet.h"

using namespace tsfleet;

TEST_CASE("schema/tsfleet.schema.json lists exactly the host keys the loader accepts") {
  auto schema = nlohmann::json::parse(testing::read_file(testing::source_dir() / "schema/tsfleet.schema.json"));
  std::set<std::string> in_schema, in_loader(host_keys().begin(), host_keys().end());
  for (auto it = schema["$defs"]["host"]["properties"].begin(); it != schema["$defs"]["host"]["properties"].end(); ++it)
    in_schema.insert(it.key());
  CHECK(in_schema == in_loader);
  CHECK(schema["properties"]["schema_version"]["const"] == kFleetSchemaVersion);
  // defaults take every host key but the per-host ones
  for (auto it = schema["properties"]["defaults"]["properties"].begin(); it != schema["properties"]["defaults"]["properties"].end(); ++it)
    CHECK(in_loader.count(it.key()) == 1);
}

TEST_CASE("the fixture fleets and the embedded fleet load") {
  for (auto name : {"wide.json", "hostile.json"}) {
    INFO(name);
    CHECK_NOTHROW(load_fleet_file((testing::source_dir() / "tests/fixtures/fleets" / name).string()));
  }
  CHECK_NOTHROW(load_fleet_file((testing::source_dir() / "examples/default-fleet.json").string()));
}
