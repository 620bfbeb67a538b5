#pragma once
// Helpers the verb files share: choosing the fleet file.
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "tsfleet/fleet.h"

namespace tsfleet::cli {

// Adds --fleet FILE (also $TSFLEET_FLEET) to a verb.
void add_fleet_option(CLI::App& sub, std::optional<std::string>& fleet);

// The fleet to use: --fleet / $TSFLEET_FLEET, else ./tsfleet.json when present, else the
// embedded default fleet. Says on stderr which one it uses when it is not the named file.
Fleet select_fleet(const std::optional<std::string>& fleet_option);

}  // namespace tsfleet::cli
