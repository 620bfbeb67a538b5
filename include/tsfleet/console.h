#pragma once
// Where output goes: results on stdout, logs on stderr (spdlog). Both pass through redact().
// Colour only on a TTY and never with NO_COLOR.
#include <cstdio>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tsfleet {

// verbosity: -1 quiet (errors only), 0 normal (warnings, notes), 1 debug (-v), 2 trace (-vv).
void setup_logging(int verbosity);

// Whether to colour what goes to `stream`: it is a terminal, NO_COLOR is unset, TERM is not "dumb".
bool use_colour(std::FILE* stream);

// Writes text to stdout, secrets redacted.
void print_out(std::string_view text);

// JSON text that never throws: bytes that are not UTF-8 (from a file or the daemon) are replaced
// by U+FFFD instead of aborting the dump.
std::string json_text(const nlohmann::json& j, int indent = -1);
// print_out(json_text(j, 2) + "\n").
void print_json(const nlohmann::json& j);

}  // namespace tsfleet
