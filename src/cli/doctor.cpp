// tsfleet doctor: diagnoses the known failure modes of Tailscale on this NixOS host (or a
// snapshot of one) and prints the NixOS fix for each. The checks live in libtsfleet (doctor/).
#include "tsfleet/doctor/doctor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "tsfleet/console.h"
#include "tsfleet/doctor/parsers.h"
#include "tsfleet/doctor/sntp.h"
#include "tsfleet/error.h"
#include "tsfleet/localapi/client.h"
#include "tsfleet/plan.h"
#include "tsfleet/suggest.h"
#include "verbs.h"

namespace tsfleet::cli {

struct DoctorOptions {
  std::string root = "/";
  std::optional<std::string> socket;
  std::optional<std::string> fleet;
  std::optional<std::string> host;
  std::vector<std::string> checks;
  bool list = false;
  bool json = false;
  bool strict = false;
  std::optional<std::string> now;
  int expiry_days = 7;
  std::vector<std::string> time_servers;
};

namespace {

int list_checks(const DoctorOptions& o) {
  const auto& all = doctor::check_catalogue();
  if (o.json) {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& c : all) arr.push_back({{"id", c.id}, {"title", c.title}, {"reads", c.reads}});
    print_json(nlohmann::json({{"schema_version", 1}, {"checks", arr}}));
  } else {
    for (const auto& c : all) print_out(fmt::format("{:<18} {}\n", c.id, c.title));
  }
  return exit_code::ok;
}

int run_doctor(const DoctorOptions& o) {
  if (o.list) return list_checks(o);
  std::vector<std::string> ids;
  for (const auto& c : doctor::check_catalogue()) ids.emplace_back(c.id);
  for (const auto& id : o.checks) {
    if (doctor::find_check(id)) continue;
    auto guess = closest_match(id, ids);
    throw Error(ErrorCategory::usage,
                fmt::format("--check {}: no such check{} (tsfleet doctor --list lists them)", id,
                            guess ? fmt::format("; did you mean {}?", *guess) : ""));
  }
  if (o.expiry_days < 0)
    throw Error(ErrorCategory::usage, "--expiry-days: give a number of days, 0 or more");
  std::error_code ec;
  if (!std::filesystem::is_directory(o.root, ec))
    throw Error(
        ErrorCategory::usage,
        fmt::format("--root {}: not a directory (give / or a snapshot of /proc, /sys and /etc)",
                    o.root));

  std::vector<doctor::TimeServer> time_servers;
  bool ask_time_servers = true;
  for (const auto& t : o.time_servers) {
    if (t == "none") {
      if (o.time_servers.size() > 1)
        throw Error(ErrorCategory::usage,
                    "--time-server none: ask no server, so give no other --time-server with it");
      ask_time_servers = false;
      continue;
    }
    std::string why;
    auto s = doctor::parse_time_server(t, &why);
    if (!s)
      throw Error(
          ErrorCategory::usage,
          fmt::format("--time-server {}: {} (write HOST, HOST:PORT or [IPV6]:PORT, or none)", t,
                      why));
    time_servers.push_back(*s);
  }

  sys::RootedFileSystem fs(o.root);
  sys::SystemProcessRunner runner;
  doctor::DoctorContext ctx;
  ctx.fs = &fs;
  ctx.live = fs.is_live();
  ctx.runner = &runner;
  ctx.key_expiry_warning = std::chrono::hours(24 * o.expiry_days);
  ctx.time_servers = time_servers;
  ctx.ask_time_servers = ask_time_servers;
  if (const char* u = std::getenv("USER")) ctx.user = u;
  if (o.now) {
    auto t = doctor::parse_rfc3339(*o.now);
    if (!t)
      throw Error(
          ErrorCategory::usage,
          fmt::format("--now {}: write an RFC 3339 time such as 2026-12-01T12:00:00Z", *o.now));
    ctx.now = *t;
  }

  // The inventory, when there is one (the embedded default fleet describes the seed's machines,
  // not this one, so it is only used for a --host that names one of them).
  std::string hostname = doctor::system_hostname(fs);
  if (o.fleet || o.host || std::filesystem::exists("tsfleet.json", ec)) {
    Fleet fleet = select_fleet(o.fleet);
    std::string want = o.host.value_or(hostname);
    const Host* h = fleet.find(want);
    if (!h) {
      for (const auto& x : fleet.hosts)
        if (!x.hostname.empty() && x.hostname == want) h = &x;
    }
    if (!h && o.host) {
      std::vector<std::string> names;
      for (const auto& x : fleet.hosts) names.push_back(x.name);
      auto guess = closest_match(*o.host, names);
      throw Error(ErrorCategory::usage,
                  fmt::format("--host {}: no such host in {}{}", *o.host, fleet.source,
                              guess ? fmt::format("; did you mean {}?", *guess) : ""));
    }
    if (h) {
      ctx.plan = plan_host(fleet, *h);
      spdlog::info("doctor: host {} of {}", h->name, fleet.source);
    } else {
      spdlog::info(
          "doctor: {} is not a host of {}: checks go by the daemon's settings only (pass --host "
          "NAME)",
          want.empty() ? "this machine" : want, fleet.source);
    }
  }
  ctx.host = ctx.plan ? ctx.plan->name : hostname;

  if (!ctx.live && !o.socket) {
    ctx.daemon.not_contacted_why =
        fmt::format("--root {} is a snapshot and no --socket was given", o.root);
  } else {
    localapi::ClientOptions co;
    if (o.socket) co.socket = *o.socket;
    co.timeout = std::chrono::seconds(5);
    localapi::LocalApiClient client(co);
    ctx.daemon = doctor::read_daemon(client);
  }

  auto results = doctor::run_checks(ctx, o.checks);
  int code = doctor::exit_code_for_results(results, o.strict);
  if (o.json) {
    auto j = render_results_json(results);
    j["host"] = ctx.host;
    j["root"] = o.root;
    j["fleet_host"] = ctx.plan ? nlohmann::json(ctx.plan->name) : nlohmann::json(nullptr);
    j["strict"] = o.strict;
    j["exit_code"] = code;
    print_json(j);
  } else {
    print_out(render_results_text(results, use_colour(stdout)));
  }
  return code;
}

}  // namespace

void setup_doctor(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<DoctorOptions>();
  sub.add_option("--root", o->root,
                 "Read /proc, /sys, /etc... under DIR (a snapshot of another host)")
      ->capture_default_str()
      ->type_name("DIR");
  sub.add_option("--socket", o->socket,
                 "tailscaled's LocalAPI socket (default: /var/run/tailscale/tailscaled.sock, then "
                 "/run/...)")
      ->type_name("PATH");
  add_fleet_option(sub, o->fleet);
  sub.add_option("--host", o->host,
                 "This host's name in the fleet file (default: the system's host name)")
      ->type_name("NAME");
  sub.add_option("--check", o->checks, "Run only this check (repeatable; --list lists them)")
      ->type_name("ID");
  sub.add_flag("--list", o->list, "List the checks and exit");
  sub.add_flag("--json", o->json, "Print a JSON report (schema_version 1) instead of text");
  sub.add_flag("--strict", o->strict, "Exit 1 on WARN too, not only on FAIL");
  sub.add_option("--expiry-days", o->expiry_days, "WARN when this node's key expires within DAYS")
      ->capture_default_str()
      ->type_name("DAYS");
  sub.add_option(
         "--now", o->now,
         "Judge key expiry as of this RFC 3339 time instead of the clock (reproducible reports)")
      ->type_name("TIME");
  sub.add_option(
         "--time-server", o->time_servers,
         "Measure the clock against this NTP server (HOST[:PORT], repeatable, asked in turn "
         "until one answers; default: the host's configured servers, on the live system "
         "only; none: ask no server)")
      ->type_name("HOST[:PORT]");
  run = [o] { return run_doctor(*o); };
}

}  // namespace tsfleet::cli
