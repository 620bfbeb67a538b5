#include "tsfleet/lint/module_reader.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <set>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include "tsfleet/nix/parser.h"

namespace tsfleet::lint {

namespace fs = std::filesystem;
using namespace tsfleet::nix;

std::string join_option_path(const std::vector<std::string>& path) {
  std::string out;
  // ASCII classes, as std::isalpha/isalnum in the "C" locale (tsfleet never sets another).
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  size_t size = 0;
  for (const auto& e : path) size += e.size() + 3;
  out.reserve(size);
  for (const auto& e : path) {
    bool ident = !e.empty() && (alpha(e[0]) || e[0] == '_');
    if (ident)
      for (char c : e)
        if (!(alpha(c) || digit(c) || c == '_' || c == '-' || c == '\'')) {
          ident = false;
          break;
        }
    if (!out.empty()) out += '.';
    if (ident) {
      out += e;
    } else {
      out += '"';
      out += e;
      out += '"';
    }
  }
  return out;
}

SourceReader filesystem_reader() {
  return [](const fs::path& p) -> std::optional<std::string> {
    // One open, one fstat and (usually) one read into a buffer of the file's size.
    int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return std::nullopt;
    }
    std::string out;
    out.resize(static_cast<size_t>(st.st_size) + 1);  // +1: see end of file in the same read
    size_t have = 0;
    for (;;) {
      if (have == out.size()) out.resize(out.size() * 2 + 4096);
      ssize_t n = ::read(fd, out.data() + have, out.size() - have);
      if (n < 0) {
        if (errno == EINTR) continue;
        ::close(fd);
        return std::nullopt;
      }
      if (n == 0) break;
      have += static_cast<size_t>(n);
    }
    ::close(fd);
    out.resize(have);
    return out;
  };
}

namespace {

// The last element of a function expression: `lib.mkIf` -> "mkIf", `mkIf` -> "mkIf".
std::string function_name(const Node* f) {
  if (auto v = f->as<VarNode>()) return v->name;
  if (auto s = f->as<SelectNode>()) {
    if (!s->path.empty() && s->path.back().is_static()) return s->path.back().name;
  }
  return "";
}

std::string shorten(std::string s) {
  if (s.size() > 80) s = s.substr(0, 77) + "...";
  return s;
}

const Node* strip_scopes(const Node* n) {
  while (n) {
    if (auto l = n->as<LetNode>()) n = l->body;
    else if (auto w = n->as<WithNode>()) n = w->body;
    else if (auto a = n->as<AssertNode>()) n = a->body;
    else break;
  }
  return n;
}

Value to_value(const Node* n, const std::string& file) {
  Value v;
  v.loc = {file, n->pos.line, n->pos.col};
  if (auto var = n->as<VarNode>()) {
    if (var->name == "true" || var->name == "false") {
      v.kind = Value::Kind::boolean;
      v.boolean = var->name == "true";
      return v;
    }
    if (var->name == "null") {
      v.kind = Value::Kind::null;
      return v;
    }
  }
  if (auto i = n->as<IntNode>()) {
    v.kind = Value::Kind::integer;
    v.integer = i->value;
    return v;
  }
  if (auto u = n->as<UnaryOpNode>(); u && u->op == UnaryOperator::Negate) {
    if (auto i = u->operand->as<IntNode>()) {
      v.kind = Value::Kind::integer;
      v.integer = -i->value;
      return v;
    }
  }
  if (auto s = n->as<StringNode>()) {
    v.kind = Value::Kind::string;
    if (s->is_constant()) {
      v.text = s->constant_value();
    } else {
      v.interpolated = true;
      for (const auto& p : s->parts) v.text += p.is_literal() ? p.literal : "${" + shorten(to_string(*p.expr)) + "}";
    }
    return v;
  }
  if (auto p = n->as<PathNode>()) {
    v.kind = Value::Kind::path;
    for (const auto& part : p->parts) v.text += part.is_literal() ? part.literal : "${...}";
    if (p->path_kind == PathKind::Search) v.text = "<" + v.text + ">";
    return v;
  }
  if (auto l = n->as<ListNode>()) {
    v.kind = Value::Kind::list;
    for (const Node* e : l->elements) v.items.push_back(to_value(strip_scopes(e), file));
    return v;
  }
  if (n->as<AttrSetNode>()) {
    v.kind = Value::Kind::attrs;
    return v;
  }
  v.kind = Value::Kind::unknown;
  v.text = shorten(to_string(*n));
  if (auto sel = n->as<SelectNode>(); sel && !sel->default_value) {
    if (auto base = sel->expr->as<VarNode>()) {
      std::vector<std::string> ref{base->name};
      bool ok = true;
      for (const auto& a : sel->path) {
        if (!a.is_static()) ok = false;
        ref.push_back(a.name);
      }
      if (ok) v.ref = std::move(ref);
    }
  }
  return v;
}

struct Modifiers {
  int priority = 100;
  bool conditional = false;
};

class Reader {
 public:
  Reader(ModuleSet& out, const SourceReader& reader, ParseCache* cache) : out_(out), reader_(reader), cache_(cache) {}

  void read_file(const fs::path& path, const SourceLoc& imported_from) {
    fs::path p = path.lexically_normal();
    if (!seen_.insert(p.string()).second) return;
    if (cache_) {
      // A file in the cache was read (and parsed) already: no need to read it again.
      std::string file = p.string();
      if (auto e = cache_->errors.find(file); e != cache_->errors.end()) {
        out_.files.push_back(std::move(file));
        out_.problems.push_back(e->second);
        return;
      }
      if (auto a = cache_->asts.find(file); a != cache_->asts.end()) {
        out_.files.push_back(file);
        asts_.push_back(a->second);
        module(a->second->root(), p, file);
        return;
      }
    }
    auto text = reader_(p);
    if (!text) {
      // an imported directory means its default.nix
      fs::path def = (p / "default.nix").lexically_normal();
      if (auto t = reader_(def)) {
        seen_.insert(def.string());
        p = def;
        text = t;
      }
    }
    if (!text) {
      out_.problems.push_back({imported_from, fmt::format("cannot read {}", p.string()), false});
      return;
    }
    std::string file = p.string();
    out_.files.push_back(file);
    std::shared_ptr<const Ast> ast;
    if (cache_) {
      if (auto e = cache_->errors.find(file); e != cache_->errors.end()) {
        out_.problems.push_back(e->second);
        return;
      }
      if (auto a = cache_->asts.find(file); a != cache_->asts.end()) ast = a->second;
    }
    if (!ast) {
      ParseOptions opts;
      opts.check_undefined_variables = false;
      auto result = parse(*text, file, opts);
      if (!result.ok()) {
        ReadProblem problem{{file, result.error.line, result.error.col}, result.error.message, true};
        if (cache_) cache_->errors[file] = problem;
        out_.problems.push_back(problem);
        return;
      }
      ast = std::shared_ptr<const Ast>(std::move(result.ast));
      if (cache_) cache_->asts[file] = ast;
    }
    asts_.push_back(ast);
    module(ast->root(), p, file);
  }

 private:
  ModuleSet& out_;
  const SourceReader& reader_;
  std::set<std::string> seen_;
  ParseCache* cache_;
  std::vector<std::shared_ptr<const Ast>> asts_;  // keeps the nodes alive while walking

  void module(const Node& root, const fs::path& path, const std::string& file) {
    const Node* n = &root;
    if (auto l = n->as<LambdaNode>()) n = l->body;
    n = strip_scopes(n);
    if (auto call = n ? n->as<CallNode>() : nullptr) {
      // e.g. `args: lib.mkIf cond { ... }` at the top is unusual but legal for config-only modules
      std::vector<std::string> path;
      walk(path, n, {}, file, n->pos);
      (void)call;
      return;
    }
    auto set = n ? n->as<AttrSetNode>() : nullptr;
    if (!set) return;
    bool explicit_config = false;
    for (const auto& b : set->bindings)
      if (b.kind == Binding::Kind::Attr && !b.path.empty() && b.path[0].is_static() &&
          (b.path[0].name == "config" || b.path[0].name == "options"))
        explicit_config = true;
    static const std::set<std::string> meta = {"options", "_file", "key", "disabledModules", "meta", "freeformType", "_class"};
    for (const auto& b : set->bindings) {
      if (b.kind != Binding::Kind::Attr || b.path.empty() || !b.path[0].is_static()) continue;
      const std::string& first = b.path[0].name;
      if (first == "imports" && b.path.size() == 1) {
        imports(b.value, path, file);
        continue;
      }
      if (meta.count(first)) continue;
      std::vector<std::string> prefix;
      prefix.reserve(8);
      size_t start = 0;
      if (explicit_config) {
        if (first != "config") continue;
        start = 1;
      }
      bool dynamic = false;
      for (size_t i = start; i < b.path.size(); ++i) {
        if (!b.path[i].is_static()) dynamic = true;
        prefix.push_back(b.path[i].name);
      }
      if (dynamic) continue;
      const AttrName& last = b.path.back();
      walk(prefix, b.value, {}, file, last.pos);
    }
  }

  void imports(const Node* v, const fs::path& path, const std::string& file) {
    v = strip_scopes(v);
    if (auto bin = v->as<BinaryOpNode>(); bin && bin->op == BinaryOperator::Concat) {
      imports(bin->lhs, path, file);
      imports(bin->rhs, path, file);
      return;
    }
    auto list = v->as<ListNode>();
    if (!list) {
      out_.unfollowed_imports.push_back(shorten(to_string(*v)));
      return;
    }
    for (const Node* e : list->elements) {
      auto p = e->as<PathNode>();
      bool literal = p && p->path_kind == PathKind::Relative &&
                     std::all_of(p->parts.begin(), p->parts.end(), [](const StringPart& s) { return s.is_literal(); });
      if (!literal) {
        out_.unfollowed_imports.push_back(shorten(to_string(*e)));
        continue;
      }
      std::string rel;
      for (const auto& part : p->parts) rel += part.literal;
      read_file(path.parent_path() / rel, {file, e->pos.line, e->pos.col});
    }
  }

  void define(const std::vector<std::string>& path, Value value, const Modifiers& m, const std::string& file, Pos name_pos) {
    if (path.empty()) return;
    Definition d;
    d.path = path;
    d.option = join_option_path(path);
    d.value = std::move(value);
    d.priority = m.priority;
    d.conditional = m.conditional;
    d.loc = {file, name_pos.line, name_pos.col};
    out_.definitions.push_back(std::move(d));
  }

  // `path` is the option path so far (restored on return); `name_pos` where its last name is.
  void walk(std::vector<std::string>& path, const Node* n, Modifiers m, const std::string& file, Pos name_pos) {
    n = strip_scopes(n);
    if (!n) return;
    if (auto call = n->as<CallNode>()) {
      std::string f = function_name(call->function);
      const auto& a = call->args;
      if ((f == "mkIf" || f == "optionalAttrs") && a.size() == 2) {
        Modifiers inner = m;
        Value cond = to_value(strip_scopes(a[0]), file);
        if (cond.is_false()) return;  // never applies
        if (!cond.is_true()) inner.conditional = true;
        walk(path, a[1], inner, file, name_pos);
        return;
      }
      if (f == "mkMerge" && a.size() == 1) {
        if (auto list = strip_scopes(a[0])->as<ListNode>()) {
          for (const Node* e : list->elements) walk(path, e, m, file, name_pos);
          return;
        }
      }
      auto with_priority = [&](int prio, const Node* value) {
        Modifiers inner = m;
        inner.priority = prio;
        walk(path, value, inner, file, name_pos);
      };
      if (f == "mkForce" && a.size() == 1) return with_priority(50, a[0]);
      if (f == "mkDefault" && a.size() == 1) return with_priority(1000, a[0]);
      if (f == "mkOptionDefault" && a.size() == 1) return with_priority(1500, a[0]);
      if (f == "mkVMOverride" && a.size() == 1) return with_priority(10, a[0]);
      if (f == "mkOverride" && a.size() == 2) {
        if (auto i = strip_scopes(a[0])->as<IntNode>()) return with_priority(static_cast<int>(i->value), a[1]);
        define(path, to_value(n, file), m, file, name_pos);
        return;
      }
      if ((f == "mkBefore" || f == "mkAfter") && a.size() == 1) return walk(path, a[0], m, file, name_pos);
      if (f == "mkOrder" && a.size() == 2) return walk(path, a[1], m, file, name_pos);
      define(path, to_value(n, file), m, file, name_pos);
      return;
    }
    if (auto ifn = n->as<IfNode>()) {
      Value cond = to_value(strip_scopes(ifn->condition), file);
      Modifiers inner = m;
      if (cond.is_true()) return walk(path, ifn->then_branch, m, file, name_pos);
      if (cond.is_false()) return walk(path, ifn->else_branch, m, file, name_pos);
      inner.conditional = true;
      walk(path, ifn->then_branch, inner, file, name_pos);
      walk(path, ifn->else_branch, inner, file, name_pos);
      return;
    }
    if (auto set = n->as<AttrSetNode>(); set && !set->let_block) {
      Value attrs;
      attrs.kind = Value::Kind::attrs;
      attrs.loc = {file, n->pos.line, n->pos.col};
      define(path, std::move(attrs), m, file, name_pos);
      for (const auto& b : set->bindings) {
        if (b.path.empty()) continue;
        if (b.kind == Binding::Kind::Inherit) {
          for (const auto& name : b.path) {
            if (!name.is_static()) continue;
            path.push_back(name.name);
            Value v;
            v.text = "inherited " + name.name;
            v.loc = {file, name.pos.line, name.pos.col};
            define(path, std::move(v), m, file, name.pos);
            path.pop_back();
          }
          continue;
        }
        bool dynamic = false;
        for (const auto& e : b.path)
          if (!e.is_static()) dynamic = true;
        if (dynamic) continue;
        size_t keep = path.size();
        for (const auto& e : b.path) path.push_back(e.name);
        walk(path, b.value, m, file, b.path.back().pos);
        path.resize(keep);
      }
      return;
    }
    define(path, to_value(n, file), m, file, name_pos);
  }
};

bool same_value(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  switch (a.kind) {
    case Value::Kind::boolean: return a.boolean == b.boolean;
    case Value::Kind::integer: return a.integer == b.integer;
    case Value::Kind::string:
    case Value::Kind::path: return a.text == b.text && !a.interpolated && !b.interpolated;
    case Value::Kind::null: return true;
    default: return false;
  }
}

}  // namespace

void ModuleSet::ensure_index() const {
  if (built_ && indexed_ == definitions.size()) return;
  index_.resize(definitions.size());
  for (size_t i = 0; i < definitions.size(); ++i) index_[i] = static_cast<uint32_t>(i);
  std::stable_sort(index_.begin(), index_.end(),
                   [&](uint32_t a, uint32_t b) { return definitions[a].option < definitions[b].option; });
  indexed_ = definitions.size();
  built_ = true;
  effective_.by_run.clear();
}

std::pair<size_t, size_t> ModuleSet::run(std::string_view option) const {
  ensure_index();
  auto lo = std::lower_bound(index_.begin(), index_.end(), option,
                             [&](uint32_t i, std::string_view o) { return std::string_view(definitions[i].option) < o; });
  auto hi = lo;
  while (hi != index_.end() && definitions[*hi].option == option) ++hi;
  return {static_cast<size_t>(lo - index_.begin()), static_cast<size_t>(hi - index_.begin())};
}

std::vector<const Definition*> ModuleSet::all(const std::string& option) const {
  auto [lo, hi] = run(option);
  std::vector<const Definition*> out;
  out.reserve(hi - lo);
  for (size_t k = lo; k < hi; ++k) out.push_back(&definitions[index_[k]]);
  return out;
}

std::vector<const Definition*> ModuleSet::under(const std::string& prefix) const {
  ensure_index();
  std::vector<uint32_t> idx;
  auto it = std::lower_bound(index_.begin(), index_.end(), std::string_view(prefix),
                             [&](uint32_t i, std::string_view o) { return std::string_view(definitions[i].option) < o; });
  for (; it != index_.end() && definitions[*it].option.compare(0, prefix.size(), prefix) == 0; ++it) {
    const std::string& o = definitions[*it].option;
    if (o.size() == prefix.size() || o[prefix.size()] == '.') idx.push_back(*it);
  }
  std::sort(idx.begin(), idx.end());  // source order
  std::vector<const Definition*> out;
  out.reserve(idx.size());
  for (uint32_t i : idx) out.push_back(&definitions[i]);
  return out;
}

namespace {

ModuleSet::Effective compute_effective(const std::vector<Definition>& definitions, const uint32_t* first, const uint32_t* last) {
  ModuleSet::Effective e;
  using Effective = ModuleSet::Effective;
  std::vector<const Definition*> defs;
  for (const uint32_t* i = first; i != last; ++i)
    if (definitions[*i].value.kind != Value::Kind::attrs) defs.push_back(&definitions[*i]);
  if (defs.empty()) return e;
  int best = defs.front()->priority;
  for (const auto* d : defs) best = std::min(best, d->priority);
  for (const auto* d : defs)
    if (d->priority == best) e.winners.push_back(d);
  e.definition = e.winners.front();
  for (const auto* d : e.winners) e.conditional = e.conditional || d->conditional;
  bool lists = std::all_of(e.winners.begin(), e.winners.end(), [](const Definition* d) { return d->value.kind == Value::Kind::list; });
  if (lists) {
    e.value.kind = Value::Kind::list;
    e.value.loc = e.definition->value.loc;
    for (const auto* d : e.winners) e.value.items.insert(e.value.items.end(), d->value.items.begin(), d->value.items.end());
    e.state = Effective::State::known;
    return e;
  }
  for (const auto* d : e.winners) {
    if (d->value.kind == Value::Kind::unknown || d->value.interpolated || d->value.kind == Value::Kind::list) {
      e.state = Effective::State::unknown;
      e.value = d->value;
      return e;
    }
  }
  for (const auto* d : e.winners) {
    if (!same_value(d->value, e.definition->value)) {
      e.state = Effective::State::conflict;
      e.value = e.definition->value;
      return e;
    }
  }
  e.state = Effective::State::known;
  e.value = e.definition->value;
  return e;
}

}  // namespace

const ModuleSet::Effective& ModuleSet::effective(const std::string& option) const {
  static const Effective absent;
  auto [lo, hi] = run(option);
  if (lo == hi) return absent;
  if (effective_.by_run.size() < index_.size()) effective_.by_run.resize(index_.size());
  auto& slot = effective_.by_run[lo];
  if (!slot) slot = std::make_unique<Effective>(compute_effective(definitions, index_.data() + lo, index_.data() + hi));
  return *slot;
}

ModuleSet read_module_set(const fs::path& root, const SourceReader& reader, ParseCache* cache) {
  ModuleSet out;
  out.root = root.lexically_normal();
  Reader r(out, reader, cache);
  r.read_file(root, {root.string(), 0, 0});
  return out;
}

std::vector<fs::path> relative_imports(const fs::path& file, const std::string& text) {
  ParseOptions opts;
  opts.check_undefined_variables = false;
  auto result = parse(text, file.string(), opts);
  if (!result.ok()) return {};
  return relative_imports(file, *result.ast);
}

std::vector<fs::path> relative_imports(const fs::path& file, const Ast& ast) {
  std::vector<fs::path> out;
  const Node* n = &ast.root();
  if (auto l = n->as<LambdaNode>()) n = l->body;
  n = strip_scopes(n);
  auto set = n ? n->as<AttrSetNode>() : nullptr;
  if (!set) return out;
  std::function<void(const Node*)> collect = [&](const Node* v) {
    v = strip_scopes(v);
    if (auto bin = v->as<BinaryOpNode>(); bin && bin->op == BinaryOperator::Concat) {
      collect(bin->lhs);
      collect(bin->rhs);
      return;
    }
    if (auto list = v->as<ListNode>()) {
      for (const Node* e : list->elements) {
        auto p = e->as<PathNode>();
        if (!p || p->path_kind != PathKind::Relative) continue;
        std::string rel;
        bool literal = true;
        for (const auto& part : p->parts) {
          if (!part.is_literal()) literal = false;
          rel += part.literal;
        }
        if (literal) out.push_back((file.parent_path() / rel).lexically_normal());
      }
    }
  };
  for (const auto& b : set->bindings)
    if (b.kind == Binding::Kind::Attr && b.path.size() == 1 && b.path[0].is_static() && b.path[0].name == "imports") collect(b.value);
  return out;
}

}  // namespace tsfleet::lint
