// tsfleet status: the fleet as the daemon sees it, joined with the inventory.
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "common.h"
#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/localapi/client.h"
#include "tsfleet/plan.h"
#include "tsfleet/status/fleet_status.h"
#include "verbs.h"

namespace tsfleet::cli {

struct StatusOptions {
  std::optional<std::string> fleet;
  std::optional<std::string> socket;
  bool json = false;
  int expiry_warning_days = 14;
};

namespace {

int run_status(const StatusOptions& o) {
  Fleet fleet = select_fleet(o.fleet);
  std::vector<HostPlan> plans = plan(fleet);

  localapi::ClientOptions co;
  if (o.socket) co.socket = std::filesystem::path(*o.socket);
  localapi::LocalApiClient client(co);
  // The raw body goes through the streaming parser: memory stays flat for huge tailnets.
  localapi::ParseWarnings warnings;
  status::StatusOptions so;
  so.expiry_warning_days = o.expiry_warning_days;
  status::FleetStatus s;
  {
    // The body is released before rendering: peak memory is the larger of body + rows and
    // rows + output, not their sum.
    localapi::Response r = client.request("GET", "status");
    s = status::summarize_status_json(r.body, plans, so, "GET /localapi/v0/status", &warnings);
  }
  for (const auto& w : warnings.items) spdlog::debug("status JSON: {}: {} (skipped)", w.path, w.message);

  if (o.json) print_out(status::render_status_json_text(s, fleet.source));
  else print_out(status::render_status_text(s, use_colour(stdout)));

  if (s.ok()) return exit_code::ok;
  for (const auto& line : s.problem_lines()) spdlog::error("{}", line);
  return exit_code::findings;
}

}  // namespace

void setup_status(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<StatusOptions>();
  add_fleet_option(sub, o->fleet);
  sub.add_option("--socket", o->socket, "tailscaled's LocalAPI socket (default: /var/run/tailscale/tailscaled.sock, then /run/tailscale/tailscaled.sock)")
      ->type_name("PATH");
  sub.add_flag("--json", o->json, "Print a JSON report (schema_version 1) instead of the table");
  sub.add_option("--expiry-warning", o->expiry_warning_days, "Warn about node keys expiring within this many days")
      ->capture_default_str()
      ->check(CLI::Range(0, 3650))
      ->type_name("DAYS");
  run = [o] { return run_status(*o); };
}

}  // namespace tsfleet::cli
