#pragma once
// The verb table (like ninja's tool table): for each verb, what it does and what it needs, so
// help can say so and a verb that needs no daemon never touches the socket.
#include <functional>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tsfleet::cli {

enum class Needs { fleet, files, daemon, daemon_and_network, system };

struct GlobalOptions {
  int verbose = 0;
  bool quiet = false;
};

// What a verb's setup leaves behind: the function main runs after parsing.
using Runner = std::function<int()>;

struct Verb {
  const char* name;
  const char* summary;
  const char* needs;  // shown in help: what the verb reads or talks to
  bool available;     // false: delivered by a later release; says so and exits 6
  std::function<void(CLI::App& sub, const GlobalOptions& global, Runner& run)> setup;
};

// Every verb, in help order.
const std::vector<Verb>& verbs();

// setup_<verb> for each verb file.
void setup_configure(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_check(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_up(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_status(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_test(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_monitor(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_doctor(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_completion(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_manpage(CLI::App& sub, const GlobalOptions& global, Runner& run);
void setup_probe_server(CLI::App& sub, const GlobalOptions& global, Runner& run);

}  // namespace tsfleet::cli
