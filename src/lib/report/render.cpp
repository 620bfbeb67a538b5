#include "tsfleet/report/render.h"

#include <map>

#include <fmt/format.h>

namespace tsfleet {

using nlohmann::json;

namespace {
const char* colour_of(Severity s) {
  switch (s) {
    case Severity::error: return "\033[31m";
    case Severity::warning: return "\033[33m";
    case Severity::info: return "\033[36m";
  }
  return "";
}

std::map<Severity, int> counts(const std::vector<Finding>& findings) {
  std::map<Severity, int> c{{Severity::error, 0}, {Severity::warning, 0}, {Severity::info, 0}};
  for (const auto& f : findings) ++c[f.severity];
  return c;
}
}  // namespace

std::string render_text(const std::vector<Finding>& findings, bool colour) {
  std::string out;
  for (const auto& f : findings) {
    std::string where = f.subject.to_string();
    std::string sev(to_string(f.severity));
    if (colour) sev = std::string(colour_of(f.severity)) + sev + "\033[0m";
    std::string host = !f.subject.file.empty() && !f.subject.host.empty() ? fmt::format(" (host {})", f.subject.host) : "";
    out += fmt::format("{}{}: {}: {} [{}]\n", where.empty() ? "" : where, host.empty() ? "" : host, sev, f.message, f.rule);
    if (!f.fix.empty()) {
      std::string fix = f.fix;
      std::string indented;
      size_t start = 0;
      bool first = true;
      while (start <= fix.size()) {
        size_t nl = fix.find('\n', start);
        std::string line = fix.substr(start, nl == std::string::npos ? std::string::npos : nl - start);
        indented += (first ? "  fix: " : "       ") + line + "\n";
        first = false;
        if (nl == std::string::npos) break;
        start = nl + 1;
      }
      out += indented;
    }
  }
  auto c = counts(findings);
  if (findings.empty()) out += "no findings\n";
  else out += fmt::format("{} error(s), {} warning(s), {} info\n", c[Severity::error], c[Severity::warning], c[Severity::info]);
  return out;
}

json render_json(const std::vector<Finding>& findings) {
  json arr = json::array();
  for (const auto& f : findings) {
    json j = {{"rule", f.rule}, {"severity", to_string(f.severity)}, {"message", f.message}, {"fix", f.fix}};
    if (!f.subject.file.empty()) j["file"] = f.subject.file;
    if (f.subject.line) {
      j["line"] = f.subject.line;
      j["col"] = f.subject.col;
    }
    if (!f.subject.host.empty()) j["host"] = f.subject.host;
    arr.push_back(j);
  }
  auto c = counts(findings);
  return {{"schema_version", 1},
          {"findings", arr},
          {"summary", {{"error", c[Severity::error]}, {"warning", c[Severity::warning]}, {"info", c[Severity::info]}}}};
}

json render_sarif(const std::vector<Finding>& findings, const std::vector<RuleInfo>& rules, const std::string& tool_version) {
  auto level = [](Severity s) { return s == Severity::error ? "error" : s == Severity::warning ? "warning" : "note"; };
  json rule_arr = json::array();
  std::map<std::string, size_t> index;
  for (const auto& r : rules) {
    index[r.id] = rule_arr.size();
    rule_arr.push_back({{"id", r.id},
                        {"name", r.id},
                        {"shortDescription", {{"text", r.title}}},
                        {"fullDescription", {{"text", r.why}}},
                        {"help", {{"text", r.fix}}},
                        {"defaultConfiguration", {{"level", level(r.severity)}}}});
  }
  json results = json::array();
  for (const auto& f : findings) {
    std::string text = f.message + (f.fix.empty() ? "" : "\nFix: " + f.fix);
    json result = {{"ruleId", f.rule}, {"level", level(f.severity)}, {"message", {{"text", text}}}};
    if (auto it = index.find(f.rule); it != index.end()) result["ruleIndex"] = it->second;
    json location = json::object();
    if (!f.subject.file.empty()) {
      json phys = {{"artifactLocation", {{"uri", f.subject.file}}}};
      if (f.subject.line) phys["region"] = {{"startLine", f.subject.line}, {"startColumn", f.subject.col ? f.subject.col : 1}};
      location["physicalLocation"] = phys;
    }
    if (!f.subject.host.empty()) location["logicalLocations"] = json::array({{{"name", f.subject.host}, {"kind", "object"}}});
    if (!location.empty()) result["locations"] = json::array({location});
    results.push_back(result);
  }
  return {{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
          {"version", "2.1.0"},
          {"runs", json::array({{{"tool", {{"driver", {{"name", "tsfleet"},
                                                     {"version", tool_version},
                                                     {"rules", rule_arr}}}}},
                                 {"results", results}}})}};
}

}  // namespace tsfleet
