// tsfleet: Tailscale on a fleet of NixOS machines. A thin main: build the CLI from the verb
// table, run one verb, map errors to the exit codes documented in docs/cli.md.
#include <cstdio>
#include <exception>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/version.h"
#include "verbs.h"

int main(int argc, char** argv) {
  using namespace tsfleet;
  CLI::App app{"tsfleet: configure, check, connect, test, watch and diagnose Tailscale on a fleet of NixOS machines"};
  app.set_version_flag("--version", std::string("tsfleet ") + TSFLEET_VERSION);
  app.require_subcommand(1, 1);
  app.fallthrough();  // -v and -q work after the verb too
  cli::GlobalOptions global;
  app.add_flag("-v,--verbose", global.verbose, "More logging on stderr (-vv for trace)");
  app.add_flag("-q,--quiet", global.quiet, "Only errors on stderr");
  app.footer("Exit codes: 0 ok, 1 findings/drift, 2 usage, 3 bad input, 4 daemon, 5 file I/O, 6 not available yet, "
             "7 auth key, 8 timeout, 10 some peers relayed (test), 11 some peers unreachable (test), 70 internal error (docs/cli.md).");

  std::vector<std::pair<CLI::App*, cli::Runner>> runners;
  for (const auto& verb : cli::verbs()) {
    std::string description = fmt::format("{}. Needs: {}.{}", verb.summary, verb.needs,
                                          verb.available ? "" : " Not available yet in this version.");
    CLI::App* sub = app.add_subcommand(verb.name, description);
    runners.emplace_back(sub, cli::Runner{});
    verb.setup(*sub, global, runners.back().second);
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? 0 : exit_code_for(ErrorCategory::usage);
  }

  setup_logging(global.quiet ? -1 : global.verbose);
  try {
    for (const auto& [sub, run] : runners)
      if (sub->parsed()) return run();
    return exit_code_for(ErrorCategory::usage);
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    return exit_code_for(e.category());
  } catch (const std::exception& e) {
    spdlog::error("internal error (please report it): {}", e.what());
    return exit_code_for(ErrorCategory::internal);
  }
}
