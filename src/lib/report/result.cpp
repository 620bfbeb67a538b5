#include "tsfleet/report/result.h"

#include <fmt/format.h>

namespace tsfleet {

std::string_view to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::pass: return "PASS";
    case Outcome::warn: return "WARN";
    case Outcome::fail: return "FAIL";
    case Outcome::skip: return "SKIP";
  }
  return "SKIP";
}

namespace {
int rank(Outcome o) {
  switch (o) {
    case Outcome::skip: return 0;
    case Outcome::pass: return 1;
    case Outcome::warn: return 2;
    case Outcome::fail: return 3;
  }
  return 0;
}
const char* colour_of(Outcome o) {
  switch (o) {
    case Outcome::pass: return "\033[32m";
    case Outcome::warn: return "\033[33m";
    case Outcome::fail: return "\033[31m";
    case Outcome::skip: return "\033[2m";
  }
  return "";
}
}  // namespace

Outcome worst(const std::vector<Result>& results) {
  Outcome w = Outcome::skip;
  for (const auto& r : results)
    if (rank(r.outcome) > rank(w)) w = r.outcome;
  return w;
}

std::string render_results_text(const std::vector<Result>& results, bool colour) {
  std::string out;
  int counts[4] = {0, 0, 0, 0};
  for (const auto& r : results) {
    ++counts[rank(r.outcome)];
    std::string tag(to_string(r.outcome));
    if (colour) tag = std::string(colour_of(r.outcome)) + tag + "\033[0m";
    std::string subject = r.subject.to_string();
    out += fmt::format("{}  {}{}: {}\n", tag, r.check, subject.empty() ? "" : " " + subject, r.summary);
    auto indent = [&](const std::string& label, const std::string& text) {
      size_t start = 0;
      bool first = true;
      while (start <= text.size()) {
        size_t nl = text.find('\n', start);
        out += (first ? "      " + label : std::string(6 + label.size(), ' ')) +
               text.substr(start, nl == std::string::npos ? std::string::npos : nl - start) + "\n";
        first = false;
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
    };
    if (!r.detail.empty()) indent("", r.detail);
    if (!r.fix.empty() && (r.outcome == Outcome::warn || r.outcome == Outcome::fail)) indent("fix: ", r.fix);
  }
  out += fmt::format("{} passed, {} warned, {} failed, {} skipped\n", counts[1], counts[2], counts[3], counts[0]);
  return out;
}

nlohmann::json render_results_json(const std::vector<Result>& results) {
  nlohmann::json arr = nlohmann::json::array();
  int counts[4] = {0, 0, 0, 0};
  for (const auto& r : results) {
    ++counts[rank(r.outcome)];
    nlohmann::json j = {{"check", r.check}, {"outcome", to_string(r.outcome)}, {"summary", r.summary}};
    if (!r.detail.empty()) j["detail"] = r.detail;
    if (!r.fix.empty()) j["fix"] = r.fix;
    if (!r.subject.host.empty()) j["host"] = r.subject.host;
    if (!r.subject.file.empty()) j["file"] = r.subject.file;
    arr.push_back(j);
  }
  return {{"schema_version", 1},
          {"results", arr},
          {"summary", {{"pass", counts[1]}, {"warn", counts[2]}, {"fail", counts[3]}, {"skip", counts[0]}}}};
}

std::vector<Finding> to_findings(const std::vector<Result>& results) {
  std::vector<Finding> out;
  for (const auto& r : results) {
    if (r.outcome != Outcome::warn && r.outcome != Outcome::fail) continue;
    out.push_back({r.check, r.outcome == Outcome::fail ? Severity::error : Severity::warning, r.subject, r.summary, r.fix});
  }
  return out;
}

}  // namespace tsfleet
