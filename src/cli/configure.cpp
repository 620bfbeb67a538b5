// tsfleet configure: one NixOS module per host from its role in the fleet file.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common.h"
#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/module_emitter.h"
#include "tsfleet/plan.h"
#include "tsfleet/suggest.h"
#include "tsfleet/sys/file_io.h"
#include "tsfleet/text_diff.h"
#include "verbs.h"

namespace tsfleet::cli {

namespace fs = std::filesystem;

struct ConfigureOptions {
  std::optional<std::string> fleet;
  std::string out = "hosts";
  std::vector<std::string> hosts;
  bool to_stdout = false;
  bool check = false;
  bool force = false;
  bool json = false;
};

namespace {

struct Target {
  const HostPlan* plan;
  fs::path path;
  std::string text;
  std::optional<std::string> on_disk;
};

std::string summary(const HostPlan& p) {
  std::vector<std::string> parts{"useRoutingFeatures " + to_string(p.routing)};
  if (!p.prefs.advertise_routes.empty()) {
    std::string r;
    for (const auto& x : p.prefs.advertise_routes) r += (r.empty() ? "" : ",") + x;
    parts.push_back("routes " + r);
  }
  if (p.prefs.advertise_exit_node) parts.push_back("offers exit node");
  if (p.prefs.exit_node) parts.push_back("uses exit node " + *p.prefs.exit_node);
  std::string out;
  for (const auto& s : parts) out += (out.empty() ? "" : "; ") + s;
  return out;
}

// Generated modules in `out` whose host is no longer in the fleet.
std::vector<fs::path> stale_modules(const fs::path& out, const std::set<std::string>& names) {
  std::vector<fs::path> stale;
  std::error_code ec;
  if (!fs::is_directory(out, ec)) return stale;
  for (const auto& entry : fs::directory_iterator(out, ec)) {
    if (!entry.is_directory() || names.count(entry.path().filename().string())) continue;
    fs::path f = entry.path() / "tailscale.nix";
    auto text = sys::read_file_if_exists(f);
    if (text && has_generated_header(*text)) stale.push_back(f);
  }
  std::sort(stale.begin(), stale.end());
  return stale;
}

int run_configure(const ConfigureOptions& o) {
  if (o.to_stdout && o.check) throw Error(ErrorCategory::usage, "--stdout and --check do not go together: --check compares with the files in --out");
  Fleet fleet = select_fleet(o.fleet);
  std::vector<HostPlan> plans = plan(fleet);

  std::set<std::string> wanted;
  for (const auto& h : o.hosts) {
    if (!fleet.find(h)) {
      std::vector<std::string> names;
      for (const auto& x : fleet.hosts) names.push_back(x.name);
      auto guess = closest_match(h, names);
      throw Error(ErrorCategory::usage, fmt::format("--host {}: no such host in {}{}", h, fleet.source,
                                                    guess ? fmt::format(" (did you mean {}?)", *guess) : ""));
    }
    wanted.insert(h);
  }

  std::string inventory = fleet.source == kEmbeddedFleetName ? std::string(kEmbeddedFleetName)
                                                             : fs::path(fleet.source).filename().string();
  std::vector<Target> targets;
  for (const auto& p : plans) {
    if (!wanted.empty() && !wanted.count(p.name)) continue;
    for (const auto& n : p.notes) spdlog::info("note: {}: {}", p.name, n);
    targets.push_back({&p, fs::path(o.out) / module_relative_path(p), render_host_module(p, inventory), std::nullopt});
  }

  if (o.to_stdout) {
    for (const auto& t : targets) {
      if (targets.size() > 1) print_out(fmt::format("# ==> {} <==\n", t.path.string()));
      print_out(t.text);
    }
    return exit_code::ok;
  }

  for (auto& t : targets) t.on_disk = sys::read_file_if_exists(t.path);
  std::set<std::string> names;
  for (const auto& h : fleet.hosts) names.insert(h.name);
  std::vector<fs::path> stale = wanted.empty() ? stale_modules(o.out, names) : std::vector<fs::path>{};

  nlohmann::json report = {{"schema_version", 1}, {"fleet", fleet.source}, {"out", o.out}, {"check", o.check}, {"hosts", nlohmann::json::array()}};

  if (o.check) {
    int drift = 0;
    for (const auto& t : targets) {
      std::string state = !t.on_disk ? "missing" : *t.on_disk == t.text ? "up-to-date" : "drift";
      if (state != "up-to-date") ++drift;
      report["hosts"].push_back({{"host", t.plan->name}, {"path", t.path.string()}, {"state", state}});
      if (o.json) continue;
      if (state == "missing") print_out(fmt::format("missing: {} (run `tsfleet configure` to write it)\n", t.path.string()));
      else if (state == "drift")
        print_out(unified_diff(*t.on_disk, t.text, t.path.string() + " (on disk)", t.path.string() + " (from the fleet file)"));
    }
    for (const auto& s : stale) {
      ++drift;
      report["hosts"].push_back({{"path", s.string()}, {"state", "stale"}});
      if (!o.json) print_out(fmt::format("stale: {} belongs to a host that is no longer in the fleet: remove it\n", s.string()));
    }
    report["drift"] = drift;
    if (o.json) print_json(report);
    else if (drift == 0) print_out(fmt::format("{} module(s) in {} match the fleet file\n", targets.size(), o.out));
    else spdlog::error("{} module(s) differ from what the fleet file generates: run `tsfleet configure`{}", drift,
                       o.out == "hosts" ? "" : " --out " + o.out);
    return drift == 0 ? exit_code::ok : exit_code::findings;
  }

  // Refuse before writing anything, so a refusal leaves every file as it was.
  for (const auto& t : targets) {
    if (t.on_disk && !has_generated_header(*t.on_disk) && !o.force)
      throw Error(ErrorCategory::io, fmt::format("{}: exists and was not generated by tsfleet (its first line is not \"{}...\"): "
                                                 "nothing was written; move it away, or pass --force to overwrite it",
                                                 t.path.string(), kGeneratedMarker));
  }
  for (const auto& t : targets) {
    bool unchanged = t.on_disk && *t.on_disk == t.text;
    if (!unchanged) sys::atomic_write_file(t.path, t.text);
    report["hosts"].push_back({{"host", t.plan->name}, {"path", t.path.string()}, {"state", unchanged ? "unchanged" : "written"},
                               {"routing_features", to_string(t.plan->routing)}, {"notes", t.plan->notes}});
    if (!o.json) print_out(fmt::format("{} {} ({})\n", unchanged ? "unchanged" : "wrote    ", t.path.string(), summary(*t.plan)));
  }
  for (const auto& s : stale) spdlog::warn("{} belongs to a host that is no longer in the fleet: remove it", s.string());
  if (o.json) print_json(report);
  return exit_code::ok;
}

}  // namespace

void setup_configure(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<ConfigureOptions>();
  add_fleet_option(sub, o->fleet);
  sub.add_option("--out", o->out, "Directory to write <host>/tailscale.nix into")->capture_default_str()->type_name("DIR");
  sub.add_option("--host", o->hosts, "Only this host (repeatable)")->type_name("NAME");
  sub.add_flag("--stdout", o->to_stdout, "Print the modules instead of writing them");
  sub.add_flag("--check", o->check, "Write nothing; exit 1 and print a diff when the files on disk differ (drift detection for CI)");
  sub.add_flag("--force", o->force, "Overwrite files that were not generated by tsfleet");
  sub.add_flag("--json", o->json, "Print a JSON report (schema_version 1) instead of text");
  run = [o] { return run_configure(*o); };
}

}  // namespace tsfleet::cli
