#include "tsfleet/lint/module_reader.h"

#include <algorithm>
#include <array>
#include <unordered_set>

#include <fcntl.h>

#include <fmt/format.h>

#include "../nix/text_hash.h"
#include "files.h"
#include "tsfleet/nix/parser.h"

namespace tsfleet::lint {

namespace fs = std::filesystem;
using namespace tsfleet::nix;

namespace {

// One element of an option path: a '.' unless it is the first, the name, quoted unless it is a
// plain identifier.
void append_option_element(std::string& out, std::string_view e, bool first) {
  // ASCII classes, as std::isalpha/isalnum in the "C" locale (tsfleet never sets another).
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  bool ident = !e.empty() && (alpha(e[0]) || e[0] == '_');
  if (ident)
    for (char c : e)
      if (!(alpha(c) || digit(c) || c == '_' || c == '-' || c == '\'')) {
        ident = false;
        break;
      }
  if (!first) out += '.';
  if (ident) {
    out += e;
  } else {
    out += '"';
    out += e;
    out += '"';
  }
}

}  // namespace

void append_option_path(std::string& out, std::span<const std::string_view> path) {
  for (size_t i = 0; i < path.size(); ++i) append_option_element(out, path[i], i == 0);
}

std::string join_option_path(std::span<const std::string_view> path) {
  std::string out;
  size_t size = 0;
  for (const auto& e : path) size += e.size() + 3;
  out.reserve(size);
  append_option_path(out, path);
  return out;
}

std::string join_option_path(std::initializer_list<std::string_view> path) {
  return join_option_path(std::span<const std::string_view>(path.begin(), path.size()));
}

SourceReader filesystem_reader() {
  return [](const fs::path& p) -> std::optional<std::string> { return detail::read_regular_file(AT_FDCWD, p.c_str()); };
}

namespace {

// The last element of a function expression: `lib.mkIf` -> "mkIf", `mkIf` -> "mkIf".
std::string_view function_name(const Node* f) {
  if (auto v = f->as<VarNode>()) return v->name;
  if (auto s = f->as<SelectNode>()) {
    if (!s->path.empty() && s->path.back().is_static()) return s->path.back().name;
  }
  return "";
}

// An expression as text for a message: at most 80 bytes (77 and "...").
std::string shortened(const Node& n) {
  std::string s = to_string_prefix(n, 81);
  if (s.size() > 80) {
    s.resize(77);
    s += "...";
  }
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

struct Modifiers {
  int priority = 100;
  bool conditional = false;
};

constexpr std::array<std::string_view, 7> kMetaAttributes = {"options", "_file", "key", "disabledModules", "meta", "freeformType", "_class"};

class Reader {
 public:
  Reader(ModuleSet& out, const SourceReader& reader, ParseCache* cache)
      : out_(out), reader_(reader), cache_(cache), st_(*out.storage) {}

  void read_file(const fs::path& path, const SourceLoc& imported_from) {
    if (detail::plainly_normal(path.native())) read_normal_file(path, imported_from);
    else read_normal_file(path.lexically_normal(), imported_from);
  }

  // What read_file() does for a file found in the cache, with the tree given.
  void read_parsed(const fs::path& normal, std::shared_ptr<const Ast> ast) {
    if (!mark_seen(normal.native())) return;
    const std::string& file = normal.native();
    out_.files.push_back(file);
    st_.asts.push_back(ast);
    module(ast->root(), normal, keep(file));
  }

 private:
  ModuleSet& out_;
  const SourceReader& reader_;
  ParseCache* cache_;
  ModuleSet::Storage& st_;
  // Files seen (names kept in the arena), as a list (a set of modules is usually a few files)
  // and, once it is longer, a set.
  std::vector<std::string_view> seen_list_;
  std::unordered_set<std::string_view> seen_set_;
  // Working storage, kept between reads on this thread (a Reader made while another is
  // reading, which no caller does, gets its own).
  struct Scratch {
    std::vector<Value> items;             // lists being built (a stack: nested lists on top)
    std::vector<std::string_view> path;  // the option path being walked
    std::string option;                   // join_option_path(path)
    std::vector<size_t> option_sizes;     // option.size() before each element of path
    std::string text;
    bool in_use = false;
  };
  static Scratch& shared_scratch() {
    thread_local Scratch scratch;
    return scratch;
  }
  struct ScratchLease {
    Scratch own;
    Scratch* s;
    ScratchLease() : s(shared_scratch().in_use ? &own : &shared_scratch()) {
      s->in_use = true;
      s->items.clear();
      s->path.clear();
      s->option.clear();
      s->option_sizes.clear();
    }
    ~ScratchLease() { s->in_use = false; }
    ScratchLease(const ScratchLease&) = delete;
    ScratchLease& operator=(const ScratchLease&) = delete;
  } lease_;
  std::vector<Value>& items_ = lease_.s->items;
  std::vector<std::string_view>& path_ = lease_.s->path;
  std::string& option_ = lease_.s->option;
  std::vector<size_t>& option_sizes_ = lease_.s->option_sizes;
  std::string& text_ = lease_.s->text;

  // The option path (path_ and option_ together).
  void push_name(std::string_view name) {
    option_sizes_.push_back(option_.size());
    append_option_element(option_, name, path_.empty());
    path_.push_back(name);
  }
  void pop_names(size_t size) {
    if (path_.size() <= size) return;
    option_.resize(option_sizes_[size]);
    option_sizes_.resize(size);
    path_.resize(size);
  }

  // Marks `file` seen; false when it was already.
  bool mark_seen(std::string_view file) {
    if (seen_set_.empty()) {
      if (std::find(seen_list_.begin(), seen_list_.end(), file) != seen_list_.end()) return false;
      seen_list_.push_back(keep(file));
      if (seen_list_.size() > 16) seen_set_.insert(seen_list_.begin(), seen_list_.end());
      return true;
    }
    if (seen_set_.count(file)) return false;
    seen_set_.insert(keep(file));
    return true;
  }

  std::string_view keep(std::string_view text) { return st_.arena.copy(text); }

  void read_normal_file(const fs::path& normal, const SourceLoc& imported_from) {
    const fs::path* p = &normal;
    if (!mark_seen(p->native())) return;
    if (cache_) {
      // A file in the cache was read (and parsed) already: no need to read it again.
      const std::string& file = p->native();
      if (auto e = cache_->errors.find(file); e != cache_->errors.end()) {
        out_.files.push_back(file);
        out_.problems.push_back(e->second);
        return;
      }
      if (auto a = cache_->asts.find(file); a != cache_->asts.end()) {
        out_.files.push_back(file);
        st_.asts.push_back(a->second);
        module(a->second->root(), *p, keep(file));
        return;
      }
    }
    auto text = reader_(*p);
    fs::path def;
    if (!text) {
      // an imported directory means its default.nix
      def = (*p / "default.nix").lexically_normal();
      if (auto t = reader_(def)) {
        mark_seen(def.native());
        p = &def;
        text = std::move(t);
      }
    }
    if (!text) {
      out_.problems.push_back(
          {{std::string(imported_from.file), imported_from.line, imported_from.col}, fmt::format("cannot read {}", p->string()), false});
      return;
    }
    const std::string& file = p->native();
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
        out_.problems.push_back(std::move(problem));
        return;
      }
      ast = std::shared_ptr<const Ast>(std::move(result.ast));
      if (cache_) cache_->asts[file] = ast;
    }
    st_.asts.push_back(ast);
    module(ast->root(), *p, keep(file));
  }

  // The value of `n` as far as the source says. Texts are views into the tree where they can be.
  Value to_value(const Node* n, std::string_view file) {
    Value v;
    fill_value(v, n, file);
    return v;
  }
  // The same into a default Value in place (a Value returned and copied into a definition is
  // read back wider than it was written: a store-forwarding stall).
  void fill_value(Value& v, const Node* n, std::string_view file) {
    v.loc = {file, n->pos.line, n->pos.col};
    if (auto var = n->as<VarNode>()) {
      if (var->name == "true" || var->name == "false") {
        v.kind = Value::Kind::boolean;
        v.boolean = var->name == "true";
        return;
      }
      if (var->name == "null") {
        v.kind = Value::Kind::null;
        return;
      }
    }
    if (auto i = n->as<IntNode>()) {
      v.kind = Value::Kind::integer;
      v.integer = i->value;
      return;
    }
    if (auto u = n->as<UnaryOpNode>(); u && u->op == UnaryOperator::Negate) {
      if (auto i = u->operand->as<IntNode>()) {
        v.kind = Value::Kind::integer;
        v.integer = -i->value;
        return;
      }
    }
    if (auto s = n->as<StringNode>()) {
      v.kind = Value::Kind::string;
      if (s->is_constant()) {
        v.text = s->parts.size() <= 1 ? s->constant_view() : keep(s->constant_value());
      } else {
        v.interpolated = true;
        std::string t;
        for (const auto& p : s->parts) {
          if (p.is_literal()) {
            t += p.literal;
          } else {
            t += "${";
            t += shortened(*p.expr);
            t += "}";
          }
        }
        v.text = keep(t);
      }
      return;
    }
    if (auto p = n->as<PathNode>()) {
      v.kind = Value::Kind::path;
      if (p->path_kind != PathKind::Search && p->parts.size() == 1 && p->parts[0].is_literal()) {
        v.text = p->parts[0].literal;
        return;
      }
      text_.clear();
      if (p->path_kind == PathKind::Search) text_ += '<';
      for (const auto& part : p->parts) text_ += part.is_literal() ? part.literal : std::string_view("${...}");
      if (p->path_kind == PathKind::Search) text_ += '>';
      v.text = keep(text_);
      return;
    }
    if (auto l = n->as<ListNode>()) {
      v.kind = Value::Kind::list;
      const size_t start = items_.size();
      for (const Node* e : l->elements) {
        const Node* x = strip_scopes(e);
        if (x->as<ListNode>()) {
          items_.push_back(to_value(x, file));  // pushes its own items first
        } else {
          fill_value(items_.emplace_back(), x, file);
        }
      }
      v.items = st_.arena.copy(items_.data() + start, items_.size() - start);
      items_.resize(start);
      return;
    }
    if (n->as<AttrSetNode>()) {
      v.kind = Value::Kind::attrs;
      return;
    }
    v.kind = Value::Kind::unknown;
    v.text = keep(shortened(*n));
    if (auto sel = n->as<SelectNode>(); sel && !sel->default_value) {
      if (auto base = sel->expr->as<VarNode>()) {
        bool ok = true;
        for (const auto& a : sel->path)
          if (!a.is_static()) ok = false;
        if (ok) {
          auto* ref = static_cast<std::string_view*>(st_.arena.allocate(sizeof(std::string_view) * (sel->path.size() + 1), alignof(std::string_view)));
          ref[0] = base->name;
          for (size_t i = 0; i < sel->path.size(); ++i) ref[i + 1] = sel->path[i].name;
          v.ref = {ref, sel->path.size() + 1};
        }
      }
    }
    return;
  }

  void module(const Node& root, const fs::path& path, std::string_view file) {
    const Node* n = &root;
    if (auto l = n->as<LambdaNode>()) n = l->body;
    n = strip_scopes(n);
    if (n && n->as<CallNode>()) {
      // e.g. `args: lib.mkIf cond { ... }` at the top is unusual but legal for config-only modules
      pop_names(0);
      walk(n, {}, file, n->pos);
      return;
    }
    auto set = n ? n->as<AttrSetNode>() : nullptr;
    if (!set) return;
    bool explicit_config = false;
    for (const auto& b : set->bindings)
      if (b.kind == Binding::Kind::Attr && !b.path.empty() && b.path[0].is_static() &&
          (b.path[0].name == "config" || b.path[0].name == "options"))
        explicit_config = true;
    for (const auto& b : set->bindings) {
      if (b.kind != Binding::Kind::Attr || b.path.empty() || !b.path[0].is_static()) continue;
      std::string_view first = b.path[0].name;
      if (first == "imports" && b.path.size() == 1) {
        imports(b.value, path, file);
        continue;
      }
      if (std::find(kMetaAttributes.begin(), kMetaAttributes.end(), first) != kMetaAttributes.end()) continue;
      size_t start = 0;
      if (explicit_config) {
        if (first != "config") continue;
        start = 1;
      }
      bool dynamic = false;
      for (size_t i = start; i < b.path.size(); ++i)
        if (!b.path[i].is_static()) dynamic = true;
      if (dynamic) continue;
      pop_names(0);
      for (size_t i = start; i < b.path.size(); ++i) push_name(b.path[i].name);
      const AttrName& last = b.path.back();
      walk(b.value, {}, file, last.pos);
    }
  }

  void imports(const Node* v, const fs::path& path, std::string_view file) {
    v = strip_scopes(v);
    if (auto bin = v->as<BinaryOpNode>(); bin && bin->op == BinaryOperator::Concat) {
      imports(bin->lhs, path, file);
      imports(bin->rhs, path, file);
      return;
    }
    auto list = v->as<ListNode>();
    if (!list) {
      out_.unfollowed_imports.push_back(shortened(*v));
      return;
    }
    for (const Node* e : list->elements) {
      auto p = e->as<PathNode>();
      bool literal = p && p->path_kind == PathKind::Relative &&
                     std::all_of(p->parts.begin(), p->parts.end(), [](const StringPart& s) { return s.is_literal(); });
      if (!literal) {
        out_.unfollowed_imports.push_back(shortened(*e));
        continue;
      }
      std::string rel;
      for (const auto& part : p->parts) rel += part.literal;
      // The walk of this file resumes after the import: keep its option path.
      std::vector<std::string_view> saved_path;
      std::string saved_option;
      std::vector<size_t> saved_sizes;
      saved_path.swap(path_);
      saved_option.swap(option_);
      saved_sizes.swap(option_sizes_);
      read_file(path.parent_path() / rel, {file, e->pos.line, e->pos.col});
      path_.swap(saved_path);
      option_.swap(saved_option);
      option_sizes_.swap(saved_sizes);
    }
  }

  // A definition of the option path_, none when it is empty; the caller fills in its value.
  Value* define(const Modifiers& m, std::string_view file, Pos name_pos) {
    if (path_.empty()) return nullptr;
    Definition& d = out_.definitions.emplace_back();
    d.path = st_.arena.copy(path_.data(), path_.size());
    d.option = keep(option_);
    d.priority = m.priority;
    d.conditional = m.conditional;
    d.loc = {file, name_pos.line, name_pos.col};
    return &d.value;
  }
  // A definition whose value is what `n` says (fill_value() adds no definitions, so the pointer
  // stays valid while it runs).
  void define_node(const Node* n, const Modifiers& m, std::string_view file, Pos name_pos) {
    if (Value* v = define(m, file, name_pos)) fill_value(*v, n, file);
  }

  // path_ is the option path so far (restored on return); `name_pos` where its last name is.
  void walk(const Node* n, Modifiers m, std::string_view file, Pos name_pos) {
    n = strip_scopes(n);
    if (!n) return;
    if (auto call = n->as<CallNode>()) {
      std::string_view f = function_name(call->function);
      const auto& a = call->args;
      if ((f == "mkIf" || f == "optionalAttrs") && a.size() == 2) {
        Modifiers inner = m;
        Value cond = to_value(strip_scopes(a[0]), file);
        if (cond.is_false()) return;  // never applies
        if (!cond.is_true()) inner.conditional = true;
        walk(a[1], inner, file, name_pos);
        return;
      }
      if (f == "mkMerge" && a.size() == 1) {
        if (auto list = strip_scopes(a[0])->as<ListNode>()) {
          for (const Node* e : list->elements) walk(e, m, file, name_pos);
          return;
        }
      }
      auto with_priority = [&](int prio, const Node* value) {
        Modifiers inner = m;
        inner.priority = prio;
        walk(value, inner, file, name_pos);
      };
      if (f == "mkForce" && a.size() == 1) return with_priority(50, a[0]);
      if (f == "mkDefault" && a.size() == 1) return with_priority(1000, a[0]);
      if (f == "mkOptionDefault" && a.size() == 1) return with_priority(1500, a[0]);
      if (f == "mkVMOverride" && a.size() == 1) return with_priority(10, a[0]);
      if (f == "mkOverride" && a.size() == 2) {
        if (auto i = strip_scopes(a[0])->as<IntNode>()) return with_priority(static_cast<int>(i->value), a[1]);
        define_node(n, m, file, name_pos);
        return;
      }
      if ((f == "mkBefore" || f == "mkAfter") && a.size() == 1) return walk(a[0], m, file, name_pos);
      if (f == "mkOrder" && a.size() == 2) return walk(a[1], m, file, name_pos);
      define_node(n, m, file, name_pos);
      return;
    }
    if (auto ifn = n->as<IfNode>()) {
      Value cond = to_value(strip_scopes(ifn->condition), file);
      Modifiers inner = m;
      if (cond.is_true()) return walk(ifn->then_branch, m, file, name_pos);
      if (cond.is_false()) return walk(ifn->else_branch, m, file, name_pos);
      inner.conditional = true;
      walk(ifn->then_branch, inner, file, name_pos);
      walk(ifn->else_branch, inner, file, name_pos);
      return;
    }
    if (auto set = n->as<AttrSetNode>(); set && !set->let_block) {
      if (Value* attrs = define(m, file, name_pos)) {
        attrs->kind = Value::Kind::attrs;
        attrs->loc = {file, n->pos.line, n->pos.col};
      }
      for (const auto& b : set->bindings) {
        if (b.path.empty()) continue;
        if (b.kind == Binding::Kind::Inherit) {
          for (const auto& name : b.path) {
            if (!name.is_static()) continue;
            push_name(name.name);
            if (Value* v = define(m, file, name.pos)) {
              text_.assign("inherited ");
              text_ += name.name;
              v->text = keep(text_);
              v->loc = {file, name.pos.line, name.pos.col};
            }
            pop_names(path_.size() - 1);
          }
          continue;
        }
        bool dynamic = false;
        for (const auto& e : b.path)
          if (!e.is_static()) dynamic = true;
        if (dynamic) continue;
        size_t keep_size = path_.size();
        for (const auto& e : b.path) push_name(e.name);
        walk(b.value, m, file, b.path.back().pos);
        pop_names(keep_size);
      }
      return;
    }
    define_node(n, m, file, name_pos);
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
  const size_t n = definitions.size();
  size_t size = 16;
  while (size < n * 2) size *= 2;
  slot_count_ = size;
  indexed_ = n;
  group_count_ = 0;
  index_.assign(size + 4 * n, 0);
  uint32_t* slot = slots();
  uint32_t* nxt = next();
  uint32_t* group = group_of();
  uint32_t* firsts = groups();
  const size_t mask = size - 1;
  for (size_t i = 0; i < n; ++i) {
    std::string_view option = definitions[i].option;
    for (size_t k = tsfleet::detail::text_hash(option) & mask;; k = (k + 1) & mask) {
      uint32_t g = slot[k];
      if (g == 0) {
        uint32_t id = static_cast<uint32_t>(group_count_++);
        firsts[2 * id] = firsts[2 * id + 1] = static_cast<uint32_t>(i);
        slot[k] = id + 1;
        group[i] = id;
        break;
      }
      uint32_t* first_last = firsts + 2 * (g - 1);
      if (definitions[first_last[0]].option == option) {
        nxt[first_last[1]] = static_cast<uint32_t>(i + 1);
        first_last[1] = static_cast<uint32_t>(i);
        group[i] = g - 1;
        break;
      }
    }
  }
  built_ = true;
  effective_.by_group.clear();
}

uint32_t ModuleSet::group(std::string_view option) const {
  ensure_index();
  const size_t mask = slot_count_ - 1;
  const uint32_t* slot = slots();
  const uint32_t* firsts = groups();
  for (size_t k = tsfleet::detail::text_hash(option) & mask;; k = (k + 1) & mask) {
    uint32_t g = slot[k];
    if (g == 0) return kNoGroup;
    if (definitions[firsts[2 * (g - 1)]].option == option) return g - 1;
  }
}

std::vector<const Definition*> ModuleSet::all(std::string_view option) const {
  std::vector<const Definition*> out;
  uint32_t g = group(option);
  if (g == kNoGroup) return out;
  const uint32_t* nxt = next();
  for (uint32_t i = groups()[2 * g] + 1; i != 0; i = nxt[i - 1]) out.push_back(&definitions[i - 1]);
  return out;
}

bool ModuleSet::defines(std::string_view option) const { return group(option) != kNoGroup; }

namespace {
bool is_under(std::string_view option, std::string_view prefix) {
  return option.starts_with(prefix) && (option.size() == prefix.size() || option[prefix.size()] == '.');
}
}  // namespace

std::vector<const Definition*> ModuleSet::under(std::string_view prefix) const {
  std::vector<const Definition*> out;
  for (const auto& d : definitions)
    if (is_under(d.option, prefix)) out.push_back(&d);
  return out;
}

bool ModuleSet::defines_under(std::string_view prefix) const {
  for (const auto& d : definitions)
    if (is_under(d.option, prefix)) return true;
  return false;
}

namespace {

// The definitions of one option: `first` and, through `next` (+1, 0: none), the others in order.
// Fills `e` (a default Effective, in place: see fill_value()).
void compute_effective(ModuleSet::Effective& e, const std::vector<Definition>& definitions, uint32_t first, const uint32_t* next,
                       nix::Arena& arena) {
  using Effective = ModuleSet::Effective;
  // The definitions that set a value (not those that only open an attribute set), in source order.
  bool any = false;
  int best = 0;
  size_t count = 0;
  for (uint32_t i = first + 1; i != 0; i = next[i - 1]) {
    const Definition& d = definitions[i - 1];
    if (d.value.kind == Value::Kind::attrs) continue;
    if (!any || d.priority < best) {
      best = d.priority;
      count = 0;
    }
    if (d.priority == best) ++count;
    any = true;
  }
  if (!any) return;
  auto* winners = static_cast<const Definition**>(arena.allocate(sizeof(const Definition*) * count, alignof(const Definition*)));
  size_t k = 0;
  for (uint32_t i = first + 1; i != 0; i = next[i - 1]) {
    const Definition& d = definitions[i - 1];
    if (d.value.kind != Value::Kind::attrs && d.priority == best) winners[k++] = &d;
  }
  e.winners = {winners, count};
  e.definition = e.winners.front();
  for (const auto* d : e.winners) e.conditional = e.conditional || d->conditional;
  bool lists = std::all_of(e.winners.begin(), e.winners.end(), [](const Definition* d) { return d->value.kind == Value::Kind::list; });
  if (lists) {
    e.value.kind = Value::Kind::list;
    e.value.loc = e.definition->value.loc;
    if (e.winners.size() == 1) {
      e.value.items = e.definition->value.items;
    } else {
      size_t n = 0;
      for (const auto* d : e.winners) n += d->value.items.size();
      if (n > 0) {
        auto* items = static_cast<Value*>(arena.allocate(sizeof(Value) * n, alignof(Value)));
        size_t j = 0;
        for (const auto* d : e.winners)
          for (const auto& item : d->value.items) new (items + j++) Value(item);
        e.value.items = {items, n};
      }
    }
    e.state = Effective::State::known;
    return;
  }
  for (const auto* d : e.winners) {
    if (d->value.kind == Value::Kind::unknown || d->value.interpolated || d->value.kind == Value::Kind::list) {
      e.state = Effective::State::unknown;
      e.value = d->value;
      return;
    }
  }
  for (const auto* d : e.winners) {
    if (!same_value(d->value, e.definition->value)) {
      e.state = Effective::State::conflict;
      e.value = e.definition->value;
      return;
    }
  }
  e.state = Effective::State::known;
  e.value = e.definition->value;
  return;
}

}  // namespace

static_assert(std::is_trivially_destructible_v<ModuleSet::Effective> && std::is_trivially_destructible_v<Definition>,
              "they live in arenas that run no destructors");

const ModuleSet::Effective& ModuleSet::effective(std::string_view option) const {
  static const Effective absent;
  uint32_t g = group(option);
  if (g == kNoGroup) return absent;
  return effective_of_group(g);
}

const ModuleSet::Effective& ModuleSet::effective(const Definition& d) const {
  // std::less: a total order even for a pointer into another array.
  const Definition* p = &d;
  if (definitions.empty() || std::less<const Definition*>{}(p, definitions.data()) ||
      !std::less<const Definition*>{}(p, definitions.data() + definitions.size()))
    return effective(d.option);
  ensure_index();
  return effective_of_group(group_of()[static_cast<size_t>(p - definitions.data())]);
}

const ModuleSet::Effective& ModuleSet::effective_of_group(uint32_t g) const {
  if (effective_.by_group.size() < group_count_) effective_.by_group.resize(group_count_, nullptr);
  const Effective*& slot = effective_.by_group[g];
  if (!slot) {
    void* p = storage->arena.allocate(sizeof(Effective), alignof(Effective));
    auto* e = new (p) Effective();
    compute_effective(*e, definitions, groups()[2 * g], next(), storage->arena);
    slot = e;
  }
  return *slot;
}

ModuleSet read_module_set(const fs::path& root, const SourceReader& reader, ParseCache* cache) {
  ModuleSet out;
  out.definitions.reserve(32);
  out.root = detail::plainly_normal(root.native()) ? root : root.lexically_normal();
  Reader r(out, reader, cache);
  const std::string root_name = root.string();
  r.read_file(root, {root_name, 0, 0});
  return out;
}

ModuleSet detail::read_module_set(const fs::path& root, std::shared_ptr<const Ast> root_ast, const SourceReader& reader, ParseCache* cache) {
  ModuleSet out;
  out.definitions.reserve(32);
  out.root = root;
  Reader r(out, reader, cache);
  r.read_parsed(root, std::move(root_ast));
  return out;
}

std::vector<fs::path> relative_imports(const fs::path& file, const std::string& text) {
  ParseOptions opts;
  opts.check_undefined_variables = false;
  auto result = parse(text, file.string(), opts);
  if (!result.ok()) return {};
  return relative_imports(file, *result.ast);
}

namespace {

void collect_relative_imports(std::string_view file, const Node* v, std::vector<fs::path>& out) {
  v = strip_scopes(v);
  if (auto bin = v->as<BinaryOpNode>(); bin && bin->op == BinaryOperator::Concat) {
    collect_relative_imports(file, bin->lhs, out);
    collect_relative_imports(file, bin->rhs, out);
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
      if (literal) out.push_back((fs::path(file).parent_path() / rel).lexically_normal());
    }
  }
}

}  // namespace

std::vector<fs::path> detail::relative_imports(std::string_view file, const Ast& ast) {
  std::vector<fs::path> out;
  const Node* n = &ast.root();
  if (auto l = n->as<LambdaNode>()) n = l->body;
  n = strip_scopes(n);
  auto set = n ? n->as<AttrSetNode>() : nullptr;
  if (!set) return out;
  for (const auto& b : set->bindings)
    if (b.kind == Binding::Kind::Attr && b.path.size() == 1 && b.path[0].is_static() && b.path[0].name == "imports")
      collect_relative_imports(file, b.value, out);
  return out;
}

std::vector<fs::path> relative_imports(const fs::path& file, const Ast& ast) { return detail::relative_imports(file.native(), ast); }

}  // namespace tsfleet::lint
