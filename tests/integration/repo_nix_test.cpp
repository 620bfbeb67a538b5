// The Nix files the repository ships parse with the real nix-instantiate (they cannot be built
// here: there is no nixpkgs offline).
#include <catch2/catch.hpp>

#include "support/helpers.h"
#include "support/nix_eval.h"

using namespace tsfleet::testing;

TEST_CASE("flake.nix and nix/*.nix parse") {
  for (auto f : {"flake.nix", "nix/package.nix"}) {
    INFO(f);
    CHECK(nix_parse_error(source_dir() / f).empty());
  }
}

TEST_CASE("nix/package.nix declares the libraries the CMake build finds") {
  std::string pkg = read_file(source_dir() / "nix/package.nix");
  for (auto dep : {"cmake", "cli11", "nlohmann_json", "fmt", "spdlog", "httplib", "catch2"}) {
    INFO(dep);
    CHECK(pkg.find(std::string(" ") + dep) != std::string::npos);
  }
}
