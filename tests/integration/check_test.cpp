// tsfleet check end to end: the real binary on real files.
#include <catch2/catch.hpp>

#include <filesystem>

#include <nlohmann/json.hpp>

#include "support/helpers.h"

using namespace tsfleet::testing;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {
fs::path repo_fixture() { return source_dir() / "tests/fixtures/modules/fleet-repo"; }
}  // namespace

TEST_CASE("check with no arguments checks the embedded fleet and its generated modules: clean, exit 0") {
  TempDir dir;
  auto r = run_tsfleet({"check"}, in_dir(dir.path()));
  CHECK(r.exit_code == 0);
  CHECK(r.out == "no findings\n");
  CHECK(r.err.find("embedded default fleet") != std::string::npos);
}

TEST_CASE("what configure generates has zero findings, for every fixture fleet and release") {
  json wide = json::parse(read_file(source_dir() / "tests/fixtures/fleets/wide.json"));
  for (const char* release : {"23.05", "23.11", "24.05", "24.11", "25.05", "25.11", "26.05", "unstable"}) {
    INFO(release);
    json f = wide;
    f["nixos_release"] = release;
    if (std::string(release) < "24.11" && std::string(release) != "unstable") f["hosts"].erase("oauth");
    TempDir dir;
    write_file(dir / "tsfleet.json", f.dump());
    // Check the files configure writes (on disk), not only the in-memory modules.
    REQUIRE(run_tsfleet({"configure"}, in_dir(dir.path())).exit_code == 0);
    auto r = run_tsfleet({"check", "hosts", "--format", "json"}, in_dir(dir.path()));
    INFO(r.out << r.err);
    CHECK(r.exit_code == 0);
    json report = json::parse(r.out);
    CHECK(report["findings"].empty());
    CHECK(report["files_checked"] == f["hosts"].size());
  }
  for (auto name : {"hostile.json"}) {
    auto r = run_tsfleet({"check", "--fleet", (source_dir() / "tests/fixtures/fleets" / name).string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out == "no findings\n");
  }
}

TEST_CASE("hand-written modules: findings with file:line:col, grouped into hosts by imports, matched to the inventory") {
  auto r = run_tsfleet({"check", "hosts"}, in_dir(repo_fixture()));
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("hosts/p620/configuration.nix:5:22 (host p620): error: useRoutingFeatures = \"client\" but the fleet file makes host p620 \"both\" [module-disagrees-with-inventory]") != std::string::npos);
  CHECK(r.out.find("hosts/p620/configuration.nix:6:40 (host p620): error:") != std::string::npos);
  CHECK(r.out.find("[advertise-without-forwarding]") != std::string::npos);
  CHECK(r.out.find("hosts/p620/configuration.nix:7:23 (host p620): error:") != std::string::npos);
  CHECK(r.out.find("[strict-rpfilter-with-routing]") != std::string::npos);
  // The shared module is reported once, for no host in particular.
  CHECK(r.out.find("modules/tailscale.nix:5:5: error: authKeyFile = ./tailscale-authkey is a path literal") != std::string::npos);
  CHECK(r.out.find("modules/tailscale.nix:6:22: error:") != std::string::npos);
  CHECK(r.out.find("fix: \"--login-server=https://hs.example.com\"") != std::string::npos);
  // Suppressed by comments in razer's configuration.
  CHECK(r.out.find("firewall-disabled") == std::string::npos);
  CHECK(r.out.find("auth-key-literal") == std::string::npos);
  CHECK(r.out.find("kREVOKED") == std::string::npos);
  CHECK(r.out.find("5 error(s), 0 warning(s), 0 info") != std::string::npos);
}

TEST_CASE("check --disable, --min-severity and suppression comments") {
  auto r = run_tsfleet({"check", "hosts", "--disable", "module-disagrees-with-inventory", "--disable", "flag-value-split"}, in_dir(repo_fixture()));
  CHECK(r.out.find("module-disagrees-with-inventory") == std::string::npos);
  CHECK(r.out.find("flag-value-split") == std::string::npos);
  CHECK(r.out.find("3 error(s)") != std::string::npos);
  auto typo = run_tsfleet({"check", "hosts", "--disable", "flag-value-splt"}, in_dir(repo_fixture()));
  CHECK(typo.exit_code == 2);
  CHECK(typo.err.find("did you mean flag-value-split?") != std::string::npos);

  TempDir dir;
  write_file(dir / "a.nix", "{ config, ... }: { services.tailscale.enable = true; services.tailscale.authKeyFile = config.sops.secrets.ts.path;\n"
                            "  networking.firewall.trustedInterfaces = [ \"tailscale0\" ]; sops.secrets.ts = { }; }\n");
  auto info = run_tsfleet({"check", "a.nix"}, in_dir(dir.path()));
  CHECK(info.out.find("a.nix:2:74: info: sops secret \"ts\" holds the auth key") != std::string::npos);
  CHECK(info.exit_code == 0);  // info findings are reported but do not fail
  auto quiet = run_tsfleet({"check", "a.nix", "--min-severity", "warning"}, in_dir(dir.path()));
  CHECK(quiet.out == "no findings\n");
}

TEST_CASE("a syntax error is reported at nix's position and exits 3, a missing path exits 2") {
  auto r = run_tsfleet({"check", (source_dir() / "tests/fixtures/modules/broken").string()});
  CHECK(r.exit_code == 3);
  CHECK(r.out.find("broken/configuration.nix:4:30: error: syntax error: syntax error, unexpected '=', expecting ';'") != std::string::npos);
  auto nix = run_process({"nix-instantiate", "--store", "dummy://", "--parse", (source_dir() / "tests/fixtures/modules/broken/configuration.nix").string()});
  CHECK(nix.err.find("configuration.nix:4:30") != std::string::npos);

  auto missing = run_tsfleet({"check", "/nonexistent/dir"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.err.find("/nonexistent/dir: no such file or directory") != std::string::npos);
}

TEST_CASE("SARIF output has the fields SARIF 2.1.0 requires") {
  auto r = run_tsfleet({"check", "hosts", "--format", "sarif"}, in_dir(repo_fixture()));
  CHECK(r.exit_code == 1);
  json s = json::parse(r.out);
  CHECK(s["version"] == "2.1.0");
  REQUIRE(s["runs"].is_array());
  REQUIRE(s["runs"].size() == 1);
  const json& run = s["runs"][0];
  CHECK(run["tool"]["driver"]["name"] == "tsfleet");
  const json& rules = run["tool"]["driver"]["rules"];
  REQUIRE(rules.size() >= 25);
  for (const auto& rule : rules) {
    CHECK(rule["id"].is_string());
    CHECK(rule["shortDescription"]["text"].is_string());
  }
  REQUIRE(run["results"].size() == 5);
  for (const auto& res : run["results"]) {
    CHECK(res["message"]["text"].is_string());
    CHECK(res["ruleId"].is_string());
    CHECK((res["level"] == "error" || res["level"] == "warning" || res["level"] == "note"));
    size_t idx = res["ruleIndex"];
    CHECK(rules[idx]["id"] == res["ruleId"]);
    const json& loc = res["locations"][0]["physicalLocation"];
    CHECK(loc["artifactLocation"]["uri"].is_string());
    CHECK(loc["region"]["startLine"].get<int>() >= 1);
    CHECK(loc["region"]["startColumn"].get<int>() >= 1);
  }
}

TEST_CASE("JSON output is versioned and complete") {
  auto r = run_tsfleet({"check", "hosts", "--format", "json"}, in_dir(repo_fixture()));
  json j = json::parse(r.out);
  CHECK(j["schema_version"] == 1);
  CHECK(j["summary"]["error"] == 5);
  CHECK(j["findings"][0]["file"] == "hosts/p620/configuration.nix");
  CHECK(j["findings"][0]["line"] == 5);
  CHECK(j["findings"][0]["host"] == "p620");
  CHECK_FALSE(j["findings"][0]["fix"].get<std::string>().empty());
}

TEST_CASE("inventory rules run on the fleet file") {
  TempDir dir;
  write_file(dir / "tsfleet.json", R"({"schema_version": 1, "tag_owners": {"tag:server": []},
    "hosts": {"a": {"roles": ["subnet-router"], "routes": ["10.0.0.0/16"], "tags": ["tag:server"]},
              "b": {"roles": ["subnet-router"], "routes": ["10.0.1.0/24"], "tags": ["tag:srv"]}}})");
  auto r = run_tsfleet({"check"}, in_dir(dir.path()));
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("host a advertises 10.0.0.0/16 and host b advertises 10.0.1.0/24") != std::string::npos);
  CHECK(r.out.find("host b advertises tag:srv, which no one owns") != std::string::npos);
}

TEST_CASE("check --list-rules lists the catalogue") {
  auto r = run_tsfleet({"check", "--list-rules"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("firewall-disabled") != std::string::npos);
  auto md = run_tsfleet({"check", "--list-rules", "--format", "markdown"});
  CHECK(md.out == read_file(source_dir() / "docs/rules.md"));
}

TEST_CASE("check --format json stays valid JSON when a file holds bytes that are not UTF-8") {
  TempDir dir;
  write_file(dir / "u.nix", "{ services.tailscale.enable = true; services.tailscale.extraSetFlags = [ \"--bogus\xff=1\" ];"
                            " networking.firewall.trustedInterfaces = [ \"tailscale0\" ]; }\n");
  auto r = run_tsfleet({"check", "u.nix", "--format", "json"}, in_dir(dir.path()));
  CHECK(r.exit_code == 1);
  json j = json::parse(r.out);
  REQUIRE(j["findings"].size() == 1);
  CHECK(j["findings"][0]["rule"] == "unknown-tailscale-flag");
}

TEST_CASE("check walks directories like std::filesystem::recursive_directory_iterator: what it skips, follows and names") {
  TempDir dir;
  for (const char* f : {"a/x.nix", ".hidden/y.nix", "result/z.nix", "node_modules/n.nix", "b/c/w.nix", ".nix", "a/notnix.txt"})
    write_file(dir / f, "{");  // a syntax error names each file that was checked
  fs::create_directories(dir / "d.nix");
  fs::create_symlink("../a/x.nix", dir / "b/link.nix");  // a symlinked file is checked
  fs::create_symlink("a", dir / "dirlink");               // a symlinked directory is not entered
  fs::create_symlink("nowhere", dir / "dangling.nix");
  for (const char* path : {".", "./", "b/../."}) {
    INFO(path);
    auto r = run_tsfleet({"check", "--format", "json", path}, in_dir(dir.path()));
    CHECK(r.exit_code == 3);
    json report = json::parse(r.out);
    std::vector<std::string> files;
    for (const auto& f : report["findings"]) files.push_back(f["file"]);
    CHECK(files == std::vector<std::string>{"a/x.nix", "b/c/w.nix", "b/link.nix"});
    CHECK(report["files_checked"] == 3);
  }
  // Files and directories given twice are checked once.
  auto r = run_tsfleet({"check", "--format", "json", "a", "./a/x.nix", "a/"}, in_dir(dir.path()));
  CHECK(json::parse(r.out)["files_checked"] == 1);
}
