#include "tsfleet/finding.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

namespace tsfleet {

std::string_view to_string(Severity s) noexcept {
  switch (s) {
    case Severity::info: return "info";
    case Severity::warning: return "warning";
    case Severity::error: return "error";
  }
  return "error";
}

std::optional<Severity> parse_severity(std::string_view s) {
  if (s == "info") return Severity::info;
  if (s == "warning" || s == "warn") return Severity::warning;
  if (s == "error") return Severity::error;
  return std::nullopt;
}

std::string Subject::to_string() const {
  if (!file.empty()) {
    if (line) return fmt::format("{}:{}:{}", file, line, col ? col : 1);
    return file;
  }
  if (!host.empty()) return "host " + host;
  return "";
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.subject.file, a.subject.host, a.subject.line, a.subject.col, a.rule) <
           std::tie(b.subject.file, b.subject.host, b.subject.line, b.subject.col, b.rule);
  });
}

}  // namespace tsfleet
