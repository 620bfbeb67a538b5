#pragma once
// The Prometheus text exposition format (version 0.0.4): a lenient parser for tailscaled's
// usermetrics and a writer for what `monitor` exports (HELP/TYPE lines, label escaping).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tsfleet::monitor::prom {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Sample {
  std::string name;  // the full series name (for histograms: with _bucket/_sum/_count)
  Labels labels;     // unescaped values, in the order given
  double value = 0;
  std::optional<std::int64_t> timestamp_ms;
};

struct Family {
  std::string name;
  std::string help;              // unescaped
  std::string type = "untyped";  // counter | gauge | histogram | summary | untyped
  std::vector<Sample> samples;
};

struct ParseLimits {
  std::size_t max_samples = 100'000;  // more are dropped (and counted as one error)
  std::size_t max_errors = 20;        // error messages kept
};

struct ParseResult {
  std::vector<Family> families;     // in order of first appearance; names unique
  std::vector<std::string> errors;  // "line N: what is wrong"; the line was skipped
  std::size_t dropped_samples = 0;
};

// Parses exposition text. Never throws on any input: a bad line is skipped with an error; a
// sample whose name does not belong to the current TYPE'd family starts an untyped family (or
// joins an earlier family of that name).
ParseResult parse_text(std::string_view text, const ParseLimits& limits = {});

bool valid_metric_name(std::string_view s) noexcept;  // [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_label_name(std::string_view s) noexcept;   // [a-zA-Z_][a-zA-Z0-9_]*

// `\` -> `\\`, `"` -> `\"`, newline -> `\n` (label values).
std::string escape_label_value(std::string_view s);
// `\` -> `\\`, newline -> `\n` (HELP text).
std::string escape_help(std::string_view s);
// A sample value: integers without exponent, NaN, +Inf, -Inf, else the shortest round-trip form.
std::string format_value(double v);

// Builds exposition text family by family.
class Writer {
 public:
  // Starts a family: `# HELP name help` and `# TYPE name type`.
  void family(std::string_view name, std::string_view help, std::string_view type);
  // One sample line; label values are escaped here.
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, double value) { sample(name, {}, value); }
  const std::string& text() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Writes parsed families (e.g. the daemon's usermetrics) back out: only families whose name
// starts with `prefix` and is valid, each once, HELP defaulted when absent, samples with invalid
// names or label names or duplicate label sets skipped.
void write_families(Writer& w, const std::vector<Family>& families, std::string_view prefix,
                    std::string_view default_help);

}  // namespace tsfleet::monitor::prom
