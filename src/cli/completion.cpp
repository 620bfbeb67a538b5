// tsfleet completion: shell completions generated from the CLI definition; tsfleet manpage
// (hidden): the man page, from the same definition.
#include <memory>
#include <optional>
#include <string>

#include <spdlog/spdlog.h>

#include "cli_model.h"
#include "common.h"
#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/version.h"
#include "verbs.h"

namespace tsfleet::cli {

struct CompletionOptions {
  std::string shell;
  bool hosts = false;
  std::optional<std::string> fleet;
};

void setup_completion(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<CompletionOptions>();
  sub.add_option("shell", o->shell, "The shell to print a completion script for")->type_name("{bash,zsh,fish}");
  sub.add_flag("--hosts", o->hosts, "Print the fleet's host names, one per line (the scripts use this to complete --host)");
  add_fleet_option(sub, o->fleet);
  CLI::App* root = sub.get_parent();
  run = [o, root]() -> int {
    if (o->hosts) {
      spdlog::set_level(spdlog::level::err);  // completion must stay quiet
      for (const auto& h : select_fleet(o->fleet).hosts) print_out(h.name + "\n");
      return exit_code::ok;
    }
    CliModel model = read_cli_model(*root);
    if (o->shell == "bash") print_out(render_bash_completion(model));
    else if (o->shell == "zsh") print_out(render_zsh_completion(model));
    else if (o->shell == "fish") print_out(render_fish_completion(model));
    else throw Error(ErrorCategory::usage, "name a shell: tsfleet completion bash|zsh|fish (e.g. `source <(tsfleet completion bash)`)");
    return exit_code::ok;
  };
}

void setup_manpage(CLI::App& sub, const GlobalOptions&, Runner& run) {
  sub.group("");  // hidden: used by the build to write tsfleet.1
  CLI::App* root = sub.get_parent();
  run = [root]() -> int {
    print_out(render_man_page(read_cli_model(*root), TSFLEET_VERSION));
    return exit_code::ok;
  };
}

}  // namespace tsfleet::cli
