#pragma once
// The CLI definition as data, read from the CLI11 app tree, so shell completions and the man
// page are generated from the same definition as --help and cannot drift from it.
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace tsfleet::cli {

struct OptionModel {
  std::vector<std::string> names;  // "--fleet", "-v", ...
  bool takes_value = false;
  std::string value_name;          // CLI11 type name: FILE, DIR, NAME, {a,b}...
  std::string description;
  bool positional = false;
  // How a shell completes the value: "file", "dir", "host", "words" (see choices) or "".
  std::string completion;
  std::vector<std::string> choices;
};

struct VerbModel {
  std::string name;
  std::string description;
  std::vector<OptionModel> options;  // the verb's own (positionals last)
};

struct CliModel {
  std::string description;
  std::vector<OptionModel> global_options;
  std::vector<VerbModel> verbs;  // visible ones, in help order
  std::string footer;
};

CliModel read_cli_model(const CLI::App& root);

std::string render_bash_completion(const CliModel& m);
std::string render_zsh_completion(const CliModel& m);
std::string render_fish_completion(const CliModel& m);
std::string render_man_page(const CliModel& m, const std::string& version);

}  // namespace tsfleet::cli
