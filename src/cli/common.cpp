#include "common.h"

#include <filesystem>

#include <spdlog/spdlog.h>

namespace tsfleet::cli {

void add_fleet_option(CLI::App& sub, std::optional<std::string>& fleet) {
  sub.add_option("--fleet", fleet, "Fleet inventory (tsfleet.json); default: ./tsfleet.json, else the embedded default fleet")
      ->envname("TSFLEET_FLEET")
      ->type_name("FILE");
}

Fleet select_fleet(const std::optional<std::string>& fleet_option) {
  if (fleet_option) return load_fleet_file(*fleet_option);
  std::error_code ec;
  if (std::filesystem::exists("tsfleet.json", ec)) {
    spdlog::info("using the fleet file ./tsfleet.json");
    return load_fleet_file("tsfleet.json");
  }
  Fleet f = load_default_fleet();
  std::string names;
  for (const auto& h : f.hosts) names += (names.empty() ? "" : ", ") + h.name;
  spdlog::info("no fleet file given and no ./tsfleet.json: using the embedded default fleet ({}); pass --fleet FILE for yours", names);
  return f;
}

}  // namespace tsfleet::cli
