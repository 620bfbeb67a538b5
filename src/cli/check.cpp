// tsfleet check: offline lint of the fleet file and of NixOS modules, for CI.
#include <cstdio>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "common.h"
#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/lint/check.h"
#include "tsfleet/lint/rules.h"
#include "tsfleet/report/render.h"
#include "tsfleet/suggest.h"
#include "tsfleet/version.h"
#include "verbs.h"

namespace tsfleet::cli {

struct CheckOptions {
  std::vector<std::string> paths;
  std::optional<std::string> fleet;
  std::string format = "text";
  std::vector<std::string> disable;
  std::string min_severity = "info";
  std::optional<std::string> release;
  std::string out = "hosts";
  bool no_generated = false;
  bool list_rules = false;
};

namespace {

int list_rules(const CheckOptions& o) {
  const auto& rules = lint::rule_catalogue();
  if (o.format == "markdown") {
    print_out(lint::render_rules_markdown());
  } else if (o.format == "json") {
    nlohmann::json arr = nlohmann::json::array();
    for (const auto& r : rules)
      arr.push_back({{"id", r.id}, {"severity", to_string(r.severity)}, {"title", r.title}, {"why", r.why}, {"fix", r.fix}});
    print_json(nlohmann::json({{"schema_version", 1}, {"rules", arr}}));
  } else {
    for (const auto& r : rules) print_out(fmt::format("{:<34} {:<8} {}\n", r.id, to_string(r.severity), r.title));
  }
  return exit_code::ok;
}

int run_check(const CheckOptions& o) {
  if (o.format != "text" && o.format != "json" && o.format != "sarif" && !(o.list_rules && o.format == "markdown"))
    throw Error(ErrorCategory::usage, fmt::format("--format {}: use text, json or sarif", o.format));
  if (o.list_rules) return list_rules(o);

  lint::CheckRequest req;
  for (const auto& p : o.paths) req.paths.emplace_back(p);
  for (const auto& d : o.disable) {
    if (!lint::find_rule(d) && d != "syntax-error" && d != "unreadable-import") {
      std::vector<std::string> ids;
      for (const auto& r : lint::rule_catalogue()) ids.push_back(r.id);
      auto guess = closest_match(d, ids);
      throw Error(ErrorCategory::usage, fmt::format("--disable {}: no such rule{} (tsfleet check --list-rules lists them)", d,
                                                    guess ? fmt::format("; did you mean {}?", *guess) : ""));
    }
    req.disabled.insert(d);
  }
  auto sev = parse_severity(o.min_severity);
  if (!sev) throw Error(ErrorCategory::usage, fmt::format("--min-severity {}: use info, warning or error", o.min_severity));
  req.min_severity = *sev;
  if (o.release) {
    auto r = parse_nixos_release(*o.release);
    if (!r) throw Error(ErrorCategory::usage, fmt::format("--release {}: write YY.05, YY.11 or unstable", *o.release));
    req.release = r;
  }
  // The inventory: the one named, ./tsfleet.json, or (with no paths at all) the embedded one.
  std::error_code ec;
  if (o.fleet || std::filesystem::exists("tsfleet.json", ec) || o.paths.empty()) req.fleet = select_fleet(o.fleet);
  req.check_generated = !o.no_generated;
  req.generated_dir = o.out;

#ifdef __GLIBC__
  // Parsing thousands of modules makes many small, short-lived allocations next to larger ones;
  // with glibc's fastbins every larger free then consolidates them all (a tenth of the time of a
  // large check). A process-wide setting, so it belongs to the program, not the library.
  mallopt(M_MXFAST, 0);
#endif
  lint::CheckReport report = lint::run_check(req);
  if (o.format == "json") {
    auto j = render_json(report.findings);
    j["files_checked"] = report.files_checked;
    j["hosts_checked"] = report.hosts_checked;
    print_json(j);
  } else if (o.format == "sarif") {
    print_json(render_sarif(report.findings, lint::rule_catalogue(), TSFLEET_VERSION));
  } else {
    print_out(render_text(report.findings, use_colour(stdout)));
    spdlog::debug("checked {} file(s), {} host configuration(s)", report.files_checked, report.hosts_checked);
  }
  if (report.syntax_errors) return exit_code_for(ErrorCategory::input);
  for (const auto& f : report.findings)
    if (f.severity >= Severity::warning) return exit_code::findings;
  return exit_code::ok;
}

}  // namespace

void setup_check(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<CheckOptions>();
  sub.add_option("paths", o->paths, ".nix files or directories to check (recursively)")->type_name("PATH");
  add_fleet_option(sub, o->fleet);
  sub.add_option("--format", o->format, "Output: text, json or sarif (SARIF 2.1.0 for code scanning); with --list-rules also markdown")
      ->capture_default_str()
      ->type_name("{text,json,sarif,markdown}");
  sub.add_option("--disable", o->disable, "Do not run this rule (repeatable; see --list-rules)")->type_name("RULE");
  sub.add_option("--min-severity", o->min_severity, "Report findings at or above: info, warning, error")
      ->capture_default_str()
      ->type_name("{info,warning,error}");
  sub.add_option("--release", o->release, "Target NixOS release for hand-written modules (default: the fleet's)")->type_name("YY.MM");
  sub.add_option("--out", o->out, "Where configure writes the generated modules (names their findings)")->capture_default_str()->type_name("DIR");
  sub.add_flag("--no-generated", o->no_generated, "Do not check the modules configure would generate");
  sub.add_flag("--list-rules", o->list_rules, "List the rules (--format text, json or markdown) and exit");
  run = [o] { return run_check(*o); };
}

}  // namespace tsfleet::cli
