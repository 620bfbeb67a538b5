// tsfleet up: connect this host idempotently with its role's flags and an auth key from a file.
#include <unistd.h>

#include <climits>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "common.h"
#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/localapi/client.h"
#include "tsfleet/plan.h"
#include "tsfleet/time_text.h"
#include "tsfleet/up/up.h"
#include "verbs.h"

namespace tsfleet::cli {

struct UpCliOptions {
  std::optional<std::string> host;
  std::optional<std::string> fleet;
  std::optional<std::string> socket;
  std::optional<std::string> auth_key_file;
  std::string tailscale = "tailscale";
  std::string timeout = "60s";
  bool dry_run = false;
  bool force_reauth = false;
  bool json = false;
};

namespace {

int run_up(const UpCliOptions& o) {
  auto timeout = parse_duration(o.timeout);
  if (!timeout || timeout->count() <= 0 || *timeout > std::chrono::hours(24 * 7))
    throw Error(ErrorCategory::usage,
                fmt::format("--timeout {}: want a duration up to a week (write e.g. 90s, 2m, 1m30s)",
                            o.timeout));
  Fleet fleet = select_fleet(o.fleet);
  std::vector<HostPlan> plans = plan(fleet);
  char name[HOST_NAME_MAX + 1] = {};
  if (!o.host && ::gethostname(name, sizeof name - 1) != 0)
    throw Error(ErrorCategory::usage, "cannot read this machine's hostname: pass --host NAME");
  const HostPlan& p = up::select_host(fleet, plans, o.host, name);

  up::UpOptions uo;
  if (o.socket) uo.socket = std::filesystem::path(*o.socket);
  uo.tailscale = o.tailscale;
  if (o.auth_key_file) uo.auth_key_file = std::filesystem::path(*o.auth_key_file);
  uo.dry_run = o.dry_run;
  uo.force_reauth = o.force_reauth;
  uo.timeout = *timeout;

  localapi::ClientOptions co;
  co.socket = uo.socket;
  localapi::LocalApiClient api(co), watch(co);
  sys::SystemProcessRunner runner;
  up::UpReport r = up::run_up(p, uo, api, &watch, runner);
  if (o.json) print_json(up::render_up_json(r));
  else print_out(up::render_up_text(r));
  return r.complete ? exit_code::ok : exit_code::findings;
}

}  // namespace

void setup_up(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<UpCliOptions>();
  sub.add_option("--host", o->host, "The inventory host this machine is (default: the one matching the system hostname)")
      ->type_name("NAME");
  add_fleet_option(sub, o->fleet);
  sub.add_option("--socket", o->socket, "tailscaled's LocalAPI socket (also passed to tailscale as --socket)")->type_name("PATH");
  sub.add_option("--auth-key-file", o->auth_key_file, "The auth key file (default: the host's secret path from the fleet file)")
      ->type_name("PATH");
  sub.add_option("--tailscale", o->tailscale, "The tailscale CLI to run")->capture_default_str()->type_name("PATH");
  sub.add_option("--timeout", o->timeout, "Deadline for the whole run (e.g. 90s, 2m)")->capture_default_str()->type_name("DURATION");
  sub.add_flag("--dry-run", o->dry_run, "Print the commands it would run and change nothing");
  sub.add_flag("--force-reauth", o->force_reauth, "Re-authenticate when login-time settings (tags, login server) differ");
  sub.add_flag("--json", o->json, "Print a JSON report (schema_version 1)");
  run = [o] { return run_up(*o); };
}

}  // namespace tsfleet::cli
