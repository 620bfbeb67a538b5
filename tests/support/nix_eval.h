#pragma once
// Runs the real nix-instantiate (2.8, offline, --store dummy://) on generated modules.
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tsfleet/plan.h"

namespace tsfleet::testing {

// `nix-instantiate --parse FILE`: empty string when it parses, else nix's error text.
std::string nix_parse_error(const std::filesystem::path& file);

// Applies the module at `file` to stub arguments (config with the plan's secret paths and the
// tailscale package, pkgs with jq, an empty lib), converts paths to strings, and returns the
// evaluated attribute set as JSON (`--eval --strict --json`). Fails the test on an eval error.
nlohmann::json nix_eval_module(const std::filesystem::path& file, const HostPlan& plan);

}  // namespace tsfleet::testing
