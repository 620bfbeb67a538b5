#include "tsfleet/lint/check.h"

#include <algorithm>
#include <map>
#include <string_view>
#include <tuple>

#ifdef __GLIBC__
#endif

#include <fmt/format.h>

#include "tsfleet/error.h"
#include "tsfleet/lint/module_reader.h"
#include "tsfleet/lint/rules.h"
#include "tsfleet/module_emitter.h"
#include "tsfleet/nix/parser.h"
#include "tsfleet/plan.h"

namespace tsfleet::lint {

namespace fs = std::filesystem;

bool Suppressions::covers(const Finding& f) const {
  if (file.count(f.rule)) return true;
  for (const auto& [line, rule] : lines)
    if (rule == f.rule && (f.subject.line == line || f.subject.line == line + 1)) return true;
  return false;
}

Suppressions parse_suppressions(std::string_view text) {
  Suppressions s;
  if (text.find("# tsfleet:") == std::string_view::npos) return s;  // the common case
  unsigned line = 1;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view l = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    size_t at = l.find("# tsfleet:");
    if (at != std::string_view::npos) {
      std::string_view rest = l.substr(at + 10);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      bool whole = false;
      if (rest.substr(0, 12) == "ignore-file ") {
        whole = true;
        rest.remove_prefix(12);
      } else if (rest.substr(0, 7) == "ignore ") {
        rest.remove_prefix(7);
      } else {
        rest = {};
      }
      // Rule ids up to the first space or '(' (a reason may follow).
      size_t end = rest.find_first_of(" (");
      std::string_view ids = rest.substr(0, end);
      size_t p = 0;
      while (p < ids.size()) {
        size_t c = ids.find(',', p);
        std::string id(ids.substr(p, c == std::string_view::npos ? std::string_view::npos : c - p));
        if (!id.empty()) {
          if (whole) s.file.insert(id);
          else s.lines.push_back({line, id});
        }
        if (c == std::string_view::npos) break;
        p = c + 1;
      }
    }
    if (nl == std::string_view::npos) break;
    start = nl + 1;
    ++line;
  }
  return s;
}

namespace {

// Whether lexically_normal() would return `s` unchanged: no empty, "." or ".." element and no
// trailing slash (the common case of paths under a directory given plainly).
bool plainly_normal(std::string_view s) {
  if (s.empty() || s.back() == '/' || s.find("//") != std::string_view::npos) return false;
  size_t start = 0;
  for (;;) {
    size_t end = s.find('/', start);
    std::string_view element = s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (element == "." || element == "..") return false;
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

std::vector<fs::path> collect_nix_files(const std::vector<fs::path>& paths) {
  std::vector<fs::path> files;
  for (const auto& p : paths) {
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) throw Error(ErrorCategory::usage, fmt::format("{}: no such file or directory", p.string()));
    if (fs::is_directory(st)) {
      fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec), end;
      if (ec) throw Error(ErrorCategory::io, fmt::format("{}: cannot read the directory: {}", p.string(), ec.message()));
      for (; it != end; it.increment(ec)) {
        if (ec) break;
        const auto& entry = *it;
        const std::string& full = entry.path().native();
        size_t slash = full.rfind('/');
        std::string_view name = slash == std::string::npos ? std::string_view(full) : std::string_view(full).substr(slash + 1);
        if (entry.is_directory() && (name.starts_with(".") || name == "result" || name == "node_modules")) {
          it.disable_recursion_pending();
          continue;
        }
        // extension() == ".nix": the name ends in ".nix" and has something before it
        if (name.size() > 4 && name.ends_with(".nix") && entry.is_regular_file())
          files.push_back(plainly_normal(full) ? entry.path() : entry.path().lexically_normal());
      }
    } else {
      files.push_back(p.lexically_normal());
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

// Inventory hosts by inventory name and by tailnet hostname.
using PlanIndex = std::map<std::string, const HostPlan*, std::less<>>;

const HostPlan* match_host(const ModuleSet& set, const PlanIndex& plans) {
  const auto& hn = set.effective("networking.hostName");
  if (hn.state == ModuleSet::Effective::State::known && hn.value.is_plain_string()) {
    if (auto it = plans.find(hn.value.text); it != plans.end()) return it->second;
  }
  for (const auto& part : set.root)
    if (auto it = plans.find(part.string()); it != plans.end()) return it->second;
  return nullptr;
}

}  // namespace

CheckReport run_check(const CheckRequest& req) {
  CheckReport report;
  std::vector<Finding> all;
  std::map<std::string, std::string> texts;  // file -> text, for suppressions
  std::vector<HostPlan> plans;
  PlanIndex plan_index;
  std::optional<NixosRelease> release = req.release;
  if (req.fleet) {
    plans = plan(*req.fleet);
    for (const auto& p : plans) {
      plan_index.emplace(p.name, &p);
      if (!p.prefs.hostname.empty()) plan_index.emplace(p.prefs.hostname, &p);
    }
    if (!release) release = req.fleet->release;
    auto inv = check_fleet(*req.fleet, plans);
    all.insert(all.end(), inv.begin(), inv.end());
  }

  auto reader = filesystem_reader();
  // Each file is read once; the text stays in `texts`.
  auto read_cached = [&](const fs::path& p) -> const std::string* {
    std::string key = p.lexically_normal().string();
    if (auto it = texts.find(key); it != texts.end()) return &it->second;
    auto t = reader(p);
    if (!t) return nullptr;
    return &texts.emplace(std::move(key), std::move(*t)).first->second;
  };
  auto caching_reader = [&](const fs::path& p) -> std::optional<std::string> {
    if (const std::string* t = read_cached(p)) return *t;
    return std::nullopt;
  };

  auto lint_set = [&](const ModuleSet& set, const HostContext& ctx) {
    ++report.hosts_checked;
    for (const auto& pr : set.problems) {
      Finding f;
      f.rule = pr.syntax ? "syntax-error" : "unreadable-import";
      f.severity = Severity::error;
      f.subject = {pr.loc.file, pr.loc.line, pr.loc.col, ctx.host};
      f.message = pr.syntax ? fmt::format("syntax error: {}", pr.message) : pr.message;
      f.fix = pr.syntax ? "Fix the syntax (nix-instantiate --parse FILE shows the same error)." : "Fix the import's path.";
      if (pr.syntax) report.syntax_errors = true;
      all.push_back(f);
    }
    auto found = check_module_set(set, ctx);
    all.insert(all.end(), found.begin(), found.end());
  };

  // Hand-written modules: hosts are the files no other given file imports.
  auto files = collect_nix_files(req.paths);
  ParseCache cache;
  std::set<std::string> imported;
  for (const auto& f : files) {
    const std::string* text = read_cached(f);
    if (!text) throw Error(ErrorCategory::io, fmt::format("{}: cannot read", f.string()));
    nix::ParseOptions opts;
    opts.check_undefined_variables = false;
    std::string name = f.string();
    auto parsed = nix::parse(*text, name, opts);
    if (!parsed.ok()) {
      cache.errors[name] = {{name, parsed.error.line, parsed.error.col}, parsed.error.message, true};
      continue;
    }
    std::shared_ptr<const nix::Ast> ast(std::move(parsed.ast));
    cache.asts[name] = ast;
    for (const auto& i : relative_imports(f, *ast)) {
      imported.insert(i.string());
      imported.insert((i / "default.nix").lexically_normal().string());
    }
  }
  for (const auto& f : files) {
    if (imported.count(f.string())) continue;
    ModuleSet set = read_module_set(f, caching_reader, &cache);
    HostContext ctx;
    ctx.release = release;
    if (const HostPlan* p = match_host(set, plan_index)) {
      ctx.plan = p;
      ctx.host = p->name;
    }
    lint_set(set, ctx);
  }
  for (const auto& [file, text] : texts) {
    auto lit = check_file_text(file, text);
    all.insert(all.end(), lit.begin(), lit.end());
  }
  report.files_checked = texts.size();

  // The modules configure would generate.
  if (req.fleet && req.check_generated) {
    std::string inventory = req.fleet->source == kEmbeddedFleetName ? std::string(kEmbeddedFleetName)
                                                                     : fs::path(req.fleet->source).filename().string();
    for (const auto& p : plans) {
      std::string name = (fs::path(req.generated_dir) / module_relative_path(p)).lexically_normal().string();
      std::string text = render_host_module(p, inventory);
      if (texts.count(name)) continue;  // on disk and given as a path: checked as written
      texts[name] = text;
      ModuleSet set = read_module_set(name, [&](const fs::path& path) -> std::optional<std::string> {
        if (path.lexically_normal().string() == name) return text;
        return std::nullopt;
      });
      HostContext ctx;
      ctx.release = req.fleet->release;
      ctx.plan = &p;
      ctx.host = p.name;
      lint_set(set, ctx);
      auto lit = check_file_text(name, text);
      all.insert(all.end(), lit.begin(), lit.end());
      ++report.files_checked;
    }
  }

  // Suppressions, disabled rules, severity; then dedupe (a file imported by two hosts).
  std::map<std::string, Suppressions> supp;
  for (const auto& [file, text] : texts) {
    Suppressions sp = parse_suppressions(text);
    if (!sp.lines.empty() || !sp.file.empty()) supp.emplace(file, std::move(sp));  // none: covers nothing
  }
  // A file shared by several hosts reports once, without a host.
  std::map<std::tuple<std::string, std::string, unsigned, unsigned, std::string>, size_t> seen;
  for (auto& f : all) {
    if (req.disabled.count(f.rule)) continue;
    if (f.severity < req.min_severity) continue;
    if (auto it = supp.find(f.subject.file); it != supp.end() && it->second.covers(f)) continue;
    auto key = std::make_tuple(f.rule, f.subject.file, f.subject.line, f.subject.col, f.message);
    if (auto it = seen.find(key); it != seen.end()) {
      if (report.findings[it->second].subject.host != f.subject.host) report.findings[it->second].subject.host.clear();
      continue;
    }
    seen[key] = report.findings.size();
    report.findings.push_back(f);
  }
  sort_findings(report.findings);
  return report;
}

}  // namespace tsfleet::lint
