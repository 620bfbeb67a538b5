// Everyday use with the real tools: just recipes, bash completion, the man page, the install tree.
#include <catch2/catch.hpp>

#include <filesystem>
#include <regex>
#include <set>
#include <sstream>

#include "support/helpers.h"

using namespace tsfleet::testing;
namespace fs = std::filesystem;

namespace {

// The real `just` (npm package rust-just, installed by scripts/install-deps).
std::string just_binary() {
  fs::path local = source_dir() / "tools/node_modules/.bin/just";
  if (fs::exists(local)) return local.string();
  REQUIRE(have_program("just"));  // scripts/install-deps installs rust-just
  return "just";
}

ProcessOptions just_env(const fs::path& dir) {
  ProcessOptions o = in_dir(dir);
  o.env["TSFLEET"] = TSFLEET_BINARY;
  o.unset_env = {"TSFLEET_FLEET", "DRY_RUN", "TSFLEET_REBUILD", "TSFLEET_REMOTE"};
  return o;
}

// A fleet repository with the example justfile and the example fleet.
void make_repo(const TempDir& dir) {
  fs::copy_file(source_dir() / "examples/justfile", dir / "justfile");
  fs::copy_file(source_dir() / "examples/default-fleet.json", dir / "tsfleet.json");
}

std::string bash_complete(const std::string& words, int cword, const fs::path& cwd) {
  std::string script = "source <(tsfleet completion bash); COMP_WORDS=(" + words + "); COMP_CWORD=" + std::to_string(cword) +
                       "; _tsfleet; printf '%s\\n' \"${COMPREPLY[@]}\"";
  ProcessOptions o = in_dir(cwd);
  o.env["PATH"] = fs::path(TSFLEET_BINARY).parent_path().string() + ":" + std::getenv("PATH");
  auto r = run_process({"bash", "-c", script}, o);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("just: configure, check and a dry-run deploy with the example justfile") {
  TempDir dir;
  make_repo(dir);
  std::string just = just_binary();

  auto list = run_process({just, "--list"}, just_env(dir.path()));
  REQUIRE(list.exit_code == 0);
  for (auto recipe : {"check", "configure", "deploy HOST", "status", "doctor"}) CHECK(list.out.find(recipe) != std::string::npos);

  auto configure = run_process({just, "configure"}, just_env(dir.path()));
  INFO(configure.err);
  CHECK(configure.exit_code == 0);
  CHECK(configure.out.find("wrote     hosts/p620/tailscale.nix") != std::string::npos);
  CHECK(fs::exists(dir / "hosts/samsung/tailscale.nix"));

  auto check = run_process({just, "check"}, just_env(dir.path()));
  CHECK(check.exit_code == 0);
  CHECK(check.out == "no findings\n");

  auto env = just_env(dir.path());
  env.env["DRY_RUN"] = "1";
  auto deploy = run_process({just, "deploy", "p620"}, env);
  INFO(deploy.out << deploy.err);
  CHECK(deploy.exit_code == 0);
  CHECK(deploy.out.find("would run: nixos-rebuild switch --flake .#p620") != std::string::npos);
  CHECK(deploy.out.find("would run: ssh root@p620 tsfleet up --host p620") != std::string::npos);
  CHECK(deploy.out.find("would run: ssh root@p620 tsfleet test --host p620") != std::string::npos);
  CHECK(deploy.out.find("==> p620: deployed") != std::string::npos);

  SECTION("deploy refuses a host whose module drifted, before rebuilding anything") {
    std::string text = read_file(dir / "hosts/p620/tailscale.nix");
    write_file(dir / "hosts/p620/tailscale.nix", text + "\n");
    auto drifted = run_process({just, "deploy", "p620"}, env);
    CHECK(drifted.exit_code != 0);
    CHECK(drifted.out.find("--- hosts/p620/tailscale.nix (on disk)") != std::string::npos);
    CHECK(drifted.out.find("would run") == std::string::npos);
  }
  SECTION("check fails the recipe on findings") {
    write_file(dir / "hosts/p620/extra.nix", "{ networking.firewall.enable = false; }\n");
    auto bad = run_process({just, "check"}, just_env(dir.path()));
    CHECK(bad.exit_code != 0);
    CHECK(bad.out.find("hosts/p620/extra.nix:1:23 (host p620): error:") != std::string::npos);
  }
}

TEST_CASE("bash completion generated from the CLI definition completes verbs, options, values and hosts") {
  TempDir dir;
  std::string verbs = bash_complete("tsfleet co", 1, dir.path());
  CHECK(verbs == "configure\ncompletion\n");
  std::string all = bash_complete("tsfleet ''", 1, dir.path());
  for (auto v : {"configure", "check", "up", "status", "test", "monitor", "doctor"}) CHECK(all.find(std::string(v) + "\n") != std::string::npos);
  CHECK(all.find("manpage") == std::string::npos);  // hidden

  // --host completes the fleet's hosts: the embedded fleet, ./tsfleet.json, or --fleet FILE.
  CHECK(bash_complete("tsfleet up --host ''", 3, dir.path()) == "p620\np510\nrazer\nsamsung\n");
  write_file(dir / "tsfleet.json", R"({"schema_version": 1, "hosts": {"web1": {"roles": ["client"]}, "web2": {"roles": ["client"]}, "db": {"roles": ["client"]}}})");
  CHECK(bash_complete("tsfleet up --host w", 3, dir.path()) == "web1\nweb2\n");
  std::string wide = (source_dir() / "tests/fixtures/fleets/wide.json").string();
  CHECK(bash_complete("tsfleet configure --fleet " + wide + " --host l", 5, dir.path()) == "laptop\n");

  CHECK(bash_complete("tsfleet check --format ''", 3, dir.path()) == "text\njson\nsarif\nmarkdown\n");
  CHECK(bash_complete("tsfleet configure --ch", 2, dir.path()) == "--check\n");
}

TEST_CASE("zsh and fish completions cover every verb") {
  for (auto shell : {"zsh", "fish"}) {
    INFO(shell);
    auto r = run_tsfleet({"completion", shell});
    REQUIRE(r.exit_code == 0);
    for (auto v : {"configure", "check", "up", "status", "test", "monitor", "doctor"}) CHECK(r.out.find(v) != std::string::npos);
    CHECK(r.out.find("tsfleet completion --hosts") != std::string::npos);
  }
  CHECK(run_tsfleet({"completion", "tcsh"}).exit_code == 2);
}

TEST_CASE("the man page renders without warnings and documents every verb and option --help shows") {
  auto man = run_tsfleet({"manpage"});
  REQUIRE(man.exit_code == 0);
  TempDir dir;
  write_file(dir / "tsfleet.1", man.out);
  REQUIRE(have_program("groff"));  // groff-base, installed by scripts/install-deps
  auto groff = run_process({"groff", "-ww", "-man", "-Tutf8", (dir / "tsfleet.1").string()});
  CHECK(groff.exit_code == 0);
  CHECK(groff.err.empty());
  auto text = run_process({"groff", "-man", "-Tascii", "-P", "-cbou", (dir / "tsfleet.1").string()});
  // Every option of every verb's --help appears in the man page, and vice versa for verbs.
  auto help = run_tsfleet({"--help"});
  std::set<std::string> verbs;
  std::istringstream lines(help.out);
  std::string line;
  bool in_sub = false;
  while (std::getline(lines, line)) {
    if (line.rfind("Subcommands:", 0) == 0) in_sub = true;
    else if (in_sub && line.size() > 2 && line[0] == ' ' && line[2] != ' ') verbs.insert(line.substr(2, line.find(' ', 2) - 2));
    else if (in_sub && line.empty()) in_sub = false;
  }
  REQUIRE(verbs.size() >= 7);
  std::regex opt(R"((--[a-z][a-z-]*))");
  for (const auto& v : verbs) {
    INFO("verb " << v);
    CHECK(text.out.find("tsfleet " + v) != std::string::npos);
    auto vh = run_tsfleet({v, "--help"});
    for (std::sregex_iterator it(vh.out.begin(), vh.out.end(), opt), end; it != end; ++it) {
      std::string o = (*it)[1];
      INFO("option " << o);
      CHECK(text.out.find(o) != std::string::npos);
    }
  }
  CHECK(text.out.find("EXIT STATUS") != std::string::npos);
}

TEST_CASE("cmake --install puts the binary, the completions and the man page in the standard places") {
  TempDir prefix;
  auto r = run_process({"cmake", "--install", binary_dir().string(), "--prefix", prefix.path().string()});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  for (auto f : {"bin/tsfleet", "share/bash-completion/completions/tsfleet", "share/zsh/site-functions/_tsfleet",
                 "share/fish/vendor_completions.d/tsfleet.fish", "share/man/man1/tsfleet.1"}) {
    INFO(f);
    CHECK(fs::exists(prefix / f));
  }
  CHECK(read_file(prefix / "share/bash-completion/completions/tsfleet") == run_tsfleet({"completion", "bash"}).out);
}
