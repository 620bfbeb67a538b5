#include "tsfleet/lint/check.h"

#include <algorithm>
#include <cerrno>
#include <map>
#include <memory>
#include <string_view>
#include <system_error>
#include <tuple>
#include <unordered_map>
#include <unordered_set>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>

#include "files.h"

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
  // The comments on the finding's line and the line above (lines is sorted by line).
  const unsigned from = f.subject.line == 0 ? 0 : f.subject.line - 1;
  auto it = std::lower_bound(lines.begin(), lines.end(), from, [](const auto& l, unsigned n) { return l.first < n; });
  for (; it != lines.end() && it->first <= f.subject.line; ++it)
    if (it->second == f.rule && (f.subject.line == it->first || f.subject.line == it->first + 1)) return true;
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

// A .nix file to check: its lexically normal name and, when the walk read it already, its text.
struct FoundFile {
  std::string name;
  std::optional<std::string> text;
};

// Whether path_less() can compare `name` as a string: no empty element, not empty.
bool comparable_as_string(const std::string& name) {
  return !name.empty() && name.back() != '/' && name.find("//") == std::string::npos;
}

// The order of std::filesystem::path (element by element) for lexically normal names: for two
// relative or two absolute names without empty elements (comparable_as_string), the order of the
// strings with '/' below every other byte.
bool path_less(const std::string& a, bool a_plain, const std::string& b, bool b_plain) {
  if (!a_plain || !b_plain || (a[0] == '/') != (b[0] == '/')) return fs::path(a) < fs::path(b);
  const size_t n = std::min(a.size(), b.size());
  size_t i = 0;
  while (i < n && a[i] == b[i]) ++i;
  if (i == n) return a.size() < b.size();
  if (a[i] == '/') return true;
  if (b[i] == '/') return false;
  return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[i]);
}

// Walks a directory tree the way std::filesystem::recursive_directory_iterator with
// skip_permission_denied does (depth first, directory symlinks not followed, an error ends the
// walk), with fewer system calls: directories are read with getdents64 relative to their parent,
// and the regular .nix files found are read right away, relative to their directory.
class Walker {
 public:
  explicit Walker(std::vector<FoundFile>& out) : out_(out) {}

  void walk(const fs::path& root) {
    int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      if (errno == EACCES) return;  // skip_permission_denied
      throw Error(ErrorCategory::io,
                  fmt::format("{}: cannot read the directory: {}", root.string(), std::error_code(errno, std::generic_category()).message()));
    }
    std::string path = root.native();
    walk_dir(fd, path, 0);
    ::close(fd);
  }

 private:
  std::vector<FoundFile>& out_;
  std::vector<std::unique_ptr<char[]>> buffers_;  // one getdents buffer per depth
  bool stopped_ = false;
  static constexpr size_t kBufferSize = 32768;

  // Reads the entries of `fd` (the directory named `path`); false when the walk must stop.
  void walk_dir(int fd, std::string& path, size_t depth) {
    if (buffers_.size() <= depth) buffers_.emplace_back(new char[kBufferSize]);
    char* buf = buffers_[depth].get();
    bool first = true;
    while (!stopped_) {
      ssize_t n = ::getdents64(fd, buf, kBufferSize);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (depth == 0 && first)
          throw Error(ErrorCategory::io,
                      fmt::format("{}: cannot read the directory: {}", path, std::error_code(errno, std::generic_category()).message()));
        stopped_ = true;
        return;
      }
      first = false;
      if (n == 0) return;
      for (ssize_t off = 0; off < n && !stopped_;) {
        auto* d = reinterpret_cast<struct dirent64*>(buf + off);
        off += d->d_reclen;
        entry(fd, path, depth, d->d_name, d->d_type);
      }
    }
  }

  void entry(int fd, std::string& path, size_t depth, const char* cname, unsigned char type) {
    std::string_view name(cname);
    if (name == "." || name == "..") return;
    const size_t keep = path.size();
    if (path.empty() || path.back() != '/') path += '/';
    path += name;
    struct Restore {
      std::string& p;
      size_t n;
      ~Restore() { p.resize(n); }
    } restore{path, keep};
    // What directory_entry::is_directory() and is_regular_file() say (symlinks followed).
    bool is_dir = type == DT_DIR, is_reg = type == DT_REG;
    if (type == DT_LNK || type == DT_UNKNOWN) {
      auto st = fs::status(path);  // throws like directory_entry::is_directory() does
      is_dir = fs::is_directory(st);
      is_reg = fs::is_regular_file(st);
    }
    if (is_dir && (name.starts_with(".") || name == "result" || name == "node_modules")) return;
    // extension() == ".nix": the name ends in ".nix" and has something before it
    if (name.size() > 4 && name.ends_with(".nix") && is_reg) {
      FoundFile f;
      if (detail::plainly_normal(path)) f.name = path;
      else f.name = fs::path(path).lexically_normal().string();
      if (type == DT_REG) f.text = detail::read_regular_file(fd, cname);  // else read later, by name
      out_.push_back(std::move(f));
    }
    // Recursion, as recursive_directory_iterator decides it: real directories only.
    bool recurse = type == DT_DIR;
    if (type == DT_UNKNOWN) {
      std::error_code ec;
      auto st = fs::symlink_status(path, ec);
      if (ec) {
        stopped_ = true;
        return;
      }
      recurse = fs::is_directory(st);
    }
    if (!recurse) return;
    int sub = ::openat(fd, cname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) {
      if (errno != EACCES) stopped_ = true;  // skip_permission_denied; other errors end the walk
      return;
    }
    walk_dir(sub, path, depth + 1);
    ::close(sub);
  }
};

std::vector<FoundFile> collect_nix_files(const std::vector<fs::path>& paths) {
  std::vector<FoundFile> files;
  for (const auto& p : paths) {
    std::error_code ec;
    auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) throw Error(ErrorCategory::usage, fmt::format("{}: no such file or directory", p.string()));
    if (fs::is_directory(st)) {
      Walker(files).walk(p);
    } else {
      files.push_back({p.lexically_normal().string(), std::nullopt});
    }
  }
  // Sorted (an order of indexes: moving the files while sorting costs more than comparing them)
  // and without duplicates.
  std::vector<uint32_t> order(files.size());
  std::vector<uint8_t> plain(files.size());
  for (size_t i = 0; i < order.size(); ++i) {
    order[i] = static_cast<uint32_t>(i);
    plain[i] = comparable_as_string(files[i].name);
  }
  std::sort(order.begin(), order.end(),
            [&](uint32_t a, uint32_t b) { return path_less(files[a].name, plain[a], files[b].name, plain[b]); });
  std::vector<FoundFile> sorted;
  sorted.reserve(files.size());
  for (uint32_t i : order)
    if (sorted.empty() || sorted.back().name != files[i].name) sorted.push_back(std::move(files[i]));
  return sorted;
}

// Inventory hosts by inventory name and by tailnet hostname.
using PlanIndex = std::map<std::string, const HostPlan*, std::less<>>;

const HostPlan* match_host(const ModuleSet& set, const PlanIndex& plans) {
  if (plans.empty()) return nullptr;
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
  // file -> text, for suppressions (the order files are visited in here changes no output: every
  // finding names its file, and findings are sorted by file)
  std::unordered_map<std::string, std::string> texts;
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

  // A host's findings, its reading problems first, into `out`; true when one is a syntax error.
  auto lint_set = [&](const ModuleSet& set, const HostContext& ctx, std::vector<Finding>& out) {
    bool syntax = false;
    for (const auto& pr : set.problems) {
      Finding f;
      f.rule = pr.syntax ? "syntax-error" : "unreadable-import";
      f.severity = Severity::error;
      f.subject = {pr.loc.file, pr.loc.line, pr.loc.col, ctx.host};
      f.message = pr.syntax ? fmt::format("syntax error: {}", pr.message) : pr.message;
      f.fix = pr.syntax ? "Fix the syntax (nix-instantiate --parse FILE shows the same error)." : "Fix the import's path.";
      if (pr.syntax) syntax = true;
      out.push_back(f);
    }
    auto found = check_module_set(set, ctx);
    out.insert(out.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    return syntax;
  };

  // Hand-written modules: hosts are the files no other given file imports. A file that imports
  // nothing is linted as soon as it is parsed, and its tree freed (so memory is reused rather
  // than grown): if a later file turns out to import it, that result is dropped and the file is
  // parsed again (from its text) with its importer. Results are assembled in file order, as if
  // every host had been linted after all files were parsed.
  auto files = collect_nix_files(req.paths);
  texts.reserve(files.size());
  ParseCache cache;
  std::unordered_set<std::string> imported;
  struct HostResult {
    bool done = false;
    bool syntax = false;
    std::vector<Finding> findings;
  };
  std::vector<HostResult> results(files.size());
  auto is_imported = [&](const std::string& name) { return !imported.empty() && imported.count(name) != 0; };
  // `root_ast`: the file's tree when the caller has it (as if from the cache).
  auto lint_host = [&](size_t i, std::shared_ptr<const nix::Ast> root_ast) {
    ModuleSet set = root_ast ? detail::read_module_set(fs::path(files[i].name), std::move(root_ast), caching_reader, &cache)
                             : read_module_set(fs::path(files[i].name), caching_reader, &cache);
    HostContext ctx;
    ctx.release = release;
    if (const HostPlan* p = match_host(set, plan_index)) {
      ctx.plan = p;
      ctx.host = p->name;
    }
    results[i].syntax = lint_set(set, ctx, results[i].findings);
    results[i].done = true;
  };
  for (size_t i = 0; i < files.size(); ++i) {
    auto& f = files[i];
    const std::string* text;
    if (f.text) {
      // Read during the walk.
      auto [it, inserted] = texts.try_emplace(f.name);
      if (inserted) it->second = std::move(*f.text);
      text = &it->second;
    } else {
      text = read_cached(fs::path(f.name));
    }
    if (!text) throw Error(ErrorCategory::io, fmt::format("{}: cannot read", f.name));
    nix::ParseOptions opts;
    opts.check_undefined_variables = false;
    opts.copy_source = false;  // `texts` outlives the cache's trees
    const std::string& name = f.name;
    auto parsed = nix::parse(*text, name, opts);
    if (!parsed.ok()) {
      cache.errors[name] = {{name, parsed.error.line, parsed.error.col}, parsed.error.message, true};
      if (!is_imported(name)) lint_host(i, nullptr);
      continue;
    }
    std::shared_ptr<const nix::Ast> ast(std::move(parsed.ast));
    auto imports = detail::relative_imports(name, *ast);
    for (const auto& imp : imports) {
      imported.insert(imp.string());
      imported.insert((imp / "default.nix").lexically_normal().string());
    }
    if (imports.empty() && !is_imported(name)) {
      lint_host(i, std::move(ast));  // and the tree is freed
    } else {
      cache.asts[name] = std::move(ast);
    }
  }
  for (size_t i = 0; i < files.size(); ++i) {
    if (is_imported(files[i].name)) continue;
    if (!results[i].done) lint_host(i, nullptr);
    ++report.hosts_checked;
    if (results[i].syntax) report.syntax_errors = true;
    all.insert(all.end(), std::make_move_iterator(results[i].findings.begin()), std::make_move_iterator(results[i].findings.end()));
  }
  results.clear();
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
      ++report.hosts_checked;
      if (lint_set(set, ctx, all)) report.syntax_errors = true;
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
