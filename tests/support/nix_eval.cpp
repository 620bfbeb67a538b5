#include "support/nix_eval.h"

#include <catch2/catch.hpp>

#include "support/helpers.h"
#include "tsfleet/module_emitter.h"

namespace tsfleet::testing {

std::string nix_parse_error(const std::filesystem::path& file) {
  REQUIRE(have_program("nix-instantiate"));  // scripts/install-deps installs nix-bin
  auto r = run_process({"nix-instantiate", "--store", "dummy://", "--parse", file.string()});
  return r.exit_code == 0 ? std::string() : (r.err.empty() ? std::string("exit ") + std::to_string(r.exit_code) : r.err);
}

nlohmann::json nix_eval_module(const std::filesystem::path& file, const HostPlan& plan) {
  REQUIRE(have_program("nix-instantiate"));
  std::string secrets;
  if (plan.secret.kind == AuthKeySource::Kind::sops)
    secrets = "sops.secrets." + nix_attr_name(plan.secret.name) + ".path = " + nix_string(plan.secret.runtime_path) + ";";
  if (plan.secret.kind == AuthKeySource::Kind::agenix)
    secrets = "age.secrets." + nix_attr_name(plan.secret.name) + ".path = " + nix_string(plan.secret.runtime_path) + ";";
  std::string expr =
      "let\n"
      "  fix = v: if builtins.isPath v then toString v\n"
      "    else if builtins.isAttrs v then builtins.mapAttrs (_: fix) v\n"
      "    else if builtins.isList v then map fix v else v;\n"
      "  config = { " + secrets + " services.tailscale.package = \"/nix/store/0000-tailscale\"; };\n"
      "  pkgs = { jq = \"/nix/store/0000-jq\"; };\n"
      "in fix (import " + nix_string(std::filesystem::absolute(file).string()) + " { inherit config pkgs; lib = {}; })\n";
  auto r = run_process({"nix-instantiate", "--store", "dummy://", "--eval", "--strict", "--json", "-E", expr});
  INFO("nix-instantiate stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return nlohmann::json::parse(r.out);
}

}  // namespace tsfleet::testing
