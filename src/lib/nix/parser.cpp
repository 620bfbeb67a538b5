// The Nix parser: recursive descent for the statement-like forms, precedence climbing for the
// operators, checked against nix's bison grammar (parser.y of Nix 2.x) so that an error is
// reported at the first token that cannot continue any valid program, like nix does.
#include "tsfleet/nix/parser.h"

#include <algorithm>
#include <array>
#include <unordered_map>

#include "lexer.h"
#include "text_hash.h"

namespace tsfleet::nix {

namespace {

constexpr std::array<std::string_view, 109> kBuiltinNames = {
    "__add", "__addErrorContext", "__all", "__any", "__appendContext", "__attrNames",
    "__attrValues", "__bitAnd", "__bitOr", "__bitXor", "__catAttrs", "__ceil", "__compareVersions",
    "__concatLists", "__concatMap", "__concatStringsSep", "__currentSystem", "__currentTime",
    "__deepSeq", "__div", "__elem", "__elemAt", "__fetchurl", "__filter", "__filterSource",
    "__findFile", "__floor", "__foldl'", "__fromJSON", "__functionArgs", "__genList",
    "__genericClosure", "__getAttr", "__getContext", "__getEnv", "__groupBy", "__hasAttr",
    "__hasContext", "__hashFile", "__hashString", "__head", "__intersectAttrs", "__isAttrs",
    "__isBool", "__isFloat", "__isFunction", "__isInt", "__isList", "__isPath", "__isString",
    "__langVersion", "__length", "__lessThan", "__listToAttrs", "__mapAttrs", "__match", "__mul",
    "__nixPath", "__nixVersion", "__parseDrvName", "__partition", "__path", "__pathExists",
    "__readDir", "__readFile", "__replaceStrings", "__seq", "__sort", "__split", "__splitVersion",
    "__storeDir", "__storePath", "__stringLength", "__sub", "__substring", "__tail", "__toFile",
    "__toJSON", "__toPath", "__toXML", "__trace", "__tryEval", "__typeOf",
    "__unsafeDiscardOutputDependency", "__unsafeDiscardStringContext", "__unsafeGetAttrPos",
    "__zipAttrsWith", "abort", "baseNameOf", "builtins", "derivation", "derivationStrict", "dirOf",
    "false", "fetchGit", "fetchMercurial", "fetchTarball", "fetchTree", "fromTOML", "import",
    "isNull", "map", "null", "placeholder", "removeAttrs", "scopedImport", "throw", "toString",
    "true",
};

}  // namespace

bool is_builtin_name(std::string_view name) noexcept {
  return std::binary_search(kBuiltinNames.begin(), kBuiltinNames.end(), name);
}

std::string format_error(const SyntaxError& error) {
  return error.filename + ":" + std::to_string(error.line) + ":" + std::to_string(error.col) +
         ": error: " + error.message;
}

namespace {

using detail::IndKind;
using detail::Lexer;
using detail::Tok;
using detail::Token;

struct Failure {
  Pos pos;
  std::string message;
};

// What nix's ExprAttrs knows about each defined name, for the duplicate checks.
struct Def {
  enum class Kind : uint8_t { Implicit, Set, Other, Inherited } kind = Kind::Other;
  Pos pos;
  uint32_t children = 0;  // Implicit and Set: the DefTable map of the names below
  bool setish() const { return kind == Kind::Implicit || kind == Kind::Set; }
};

// Every map of defined names of one parse (one per attribute set, let and implicit set) in one
// open-addressing hash table keyed by (map, name): no allocation per set or name.
class DefTable {
 public:
  void clear() {
    entries_.clear();
    heads_.assign(1, 0);
    if (slots_.size() != kMinSlots) slots_.assign(kMinSlots, 0);
    else std::fill(slots_.begin(), slots_.end(), 0);
  }
  uint32_t new_map() {
    heads_.push_back(0);
    return static_cast<uint32_t>(heads_.size() - 1);
  }
  Def* find(uint32_t map, std::string_view name) {
    size_t mask = slots_.size() - 1;
    for (size_t i = hash(map, name) & mask;; i = (i + 1) & mask) {
      uint32_t e = slots_[i];
      if (e == 0) return nullptr;
      Entry& entry = entries_[e - 1];
      if (entry.map == map && entry.name == name) return &entry.def;
    }
  }
  // `name` must not be in `map` yet.
  void insert(uint32_t map, std::string_view name, const Def& def) {
    if ((entries_.size() + 1) * 2 > slots_.size()) grow();
    entries_.push_back(Entry{map, heads_[map], name, def});
    uint32_t e = static_cast<uint32_t>(entries_.size());
    heads_[map] = e;
    place(e);
  }
  // The entries of `map` in name order (the order std::map had, which picks the reported
  // duplicate when a merge finds several).
  void sorted_entries(uint32_t map, std::vector<std::pair<std::string_view, Def>>& out) const {
    out.clear();
    for (uint32_t e = heads_[map]; e != 0; e = entries_[e - 1].next) out.emplace_back(entries_[e - 1].name, entries_[e - 1].def);
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  }

 private:
  static constexpr size_t kMinSlots = 64;
  struct Entry {
    uint32_t map;
    uint32_t next;  // the entry inserted before this one in the same map (+1; 0: none)
    std::string_view name;
    Def def;
  };
  // Eight bytes a step (names are short; a byte-at-a-time hash was a tenth of the parse).
  static size_t hash(uint32_t map, std::string_view name) { return tsfleet::detail::text_hash(name, uint64_t{map} << 32); }
  void place(uint32_t e) {
    const Entry& entry = entries_[e - 1];
    size_t mask = slots_.size() - 1;
    size_t i = hash(entry.map, entry.name) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = e;
  }
  void grow() {
    slots_.assign(slots_.size() * 2, 0);
    for (uint32_t e = 1; e <= entries_.size(); ++e) place(e);
  }
  std::vector<Entry> entries_;
  std::vector<uint32_t> heads_{0};  // per map: its last entry (+1); map 0 is unused
  std::vector<uint32_t> slots_ = std::vector<uint32_t>(kMinSlots, 0);
};

struct IndItem {
  Pos pos;
  const Node* expr = nullptr;
  std::string_view text;
  IndKind kind = IndKind::Raw;
};

// Working storage of the parser, kept between parses (per thread) so that a parse allocates
// little more than its Ast. Lists under construction are stacks: a nested list is pushed on top
// and popped (copied into the arena) before the enclosing one continues.
struct Scratch {
  std::vector<StringPart> parts;
  std::vector<AttrName> names;
  std::vector<Binding> bindings;
  std::vector<Formal> formals;
  std::vector<const Node*> nodes;
  std::vector<IndItem> ind_items;
  std::vector<uint8_t> lexer_states;
  std::vector<std::pair<std::string_view, Def>> merge_entries;
  std::string text;  // a literal being decoded
  std::string line;  // indentation stripping: one item's text
  DefTable defs;
  void clear() {
    parts.clear();
    names.clear();
    bindings.clear();
    formals.clear();
    nodes.clear();
    ind_items.clear();
    defs.clear();
  }
};

std::string pos_text(std::string_view file, Pos p) {
  return std::string(file) + ":" + std::to_string(p.line) + ":" + std::to_string(p.col);
}

class Parser {
 public:
  // `src` must stay valid as long as the Ast: texts in the tree are views into it (parse() passes
  // the Ast's own copy).
  Parser(std::string_view src, std::string_view filename, const ParseOptions& options, Ast& ast, Scratch& scratch)
      : lex_(src, scratch.lexer_states), filename_(filename), options_(options), ast_(ast), s_(scratch) {}

  const Node* parse_file() {
    const Node* e = parse_expr();
    const Token& t = peek();
    if (t.kind != Tok::Eof) unexpected(t, "end of file");
    return e;
  }

 private:
  // ---- tokens ----
  // Lookahead: up to 3 tokens in a ring of 4, lexed in place. A token taken stays readable
  // until 3 more are lexed.
  const Token& peek(size_t k = 0) {
    if (nbuf_ > k) [[likely]]
      return buf_[(head_ + k) & 3];
    return lex_to(k);
  }
  [[gnu::noinline]] const Token& lex_to(size_t k) {
    while (nbuf_ <= k) {
      Token& t = buf_[(head_ + nbuf_) & 3];
      lex_.next(t);
      if (t.kind == Tok::Error) {
        std::string msg = t.error;
        if (msg != "path has a trailing slash") msg += " '" + std::string(t.text) + "'";
        throw Failure{t.pos, msg};
      }
      ++nbuf_;
    }
    return buf_[(head_ + k) & 3];
  }
  const Token& take() {
    const Token& t = peek();
    head_ = (head_ + 1) & 3;
    --nbuf_;
    prev_end_ = t.end;
    return t;
  }
  [[noreturn]] void unexpected(const Token& t, std::string_view expecting = {}) {
    std::string msg = "syntax error, unexpected ";
    msg += detail::token_display_name(t.kind);
    if (!expecting.empty()) {
      msg += ", expecting ";
      msg += expecting;
    }
    throw Failure{t.pos, std::move(msg)};
  }
  const Token& expect(Tok kind, std::string_view expecting) {
    const Token& t = peek();
    if (t.kind != kind) unexpected(t, expecting);
    return take();
  }
  [[noreturn]] void fail(Pos pos, std::string message) { throw Failure{pos, std::move(message)}; }

  // ---- depth ----
  struct DepthGuard {
    explicit DepthGuard(Parser& p) : p_(p) {
      if (++p_.depth_ > p_.options_.max_depth) {
        Pos pos = p_.peek().pos;
        p_.fail(pos, "expression nested too deeply (more than " +
                         std::to_string(p_.options_.max_depth) + " levels)");
      }
    }
    ~DepthGuard() { --p_.depth_; }
    DepthGuard(const DepthGuard&) = delete;
    DepthGuard& operator=(const DepthGuard&) = delete;
    Parser& p_;
  };
  void child(Node* n, const Node* c) {
    if (!c) return;
    if (c->depth + 1 > n->depth) {
      n->depth = c->depth + 1;
      if (n->depth > options_.max_depth)
        fail(n->pos, "expression nested too deeply (more than " +
                         std::to_string(options_.max_depth) + " levels)");
    }
  }
  void child_path(Node* n, AttrPath path) {
    for (const auto& a : path) child(n, a.dynamic);
  }
  void child_bindings(Node* n, std::span<const Binding> bs) {
    for (const auto& b : bs) {
      child_path(n, b.path);
      child(n, b.value);
      child(n, b.from);
    }
  }

  // The top of `stack` from `start` on, moved into the arena.
  template <class T>
  std::span<const T> pop_list(std::vector<T>& stack, size_t start) {
    auto out = ast_.arena().copy(stack.data() + start, stack.size() - start);
    stack.resize(start);
    return out;
  }

  // ---- expressions ----
  const Node* parse_expr() { return parse_expr_function(); }

  bool formals_ahead() {
    const Token& t1 = peek(1);
    if (t1.kind == Tok::Ellipsis) return true;
    if (t1.kind == Tok::RBrace) {
      Tok k = peek(2).kind;
      return k == Tok::Colon || k == Tok::At;
    }
    if (t1.kind == Tok::Id) {
      Tok k = peek(2).kind;
      return k == Tok::Comma || k == Tok::Question || k == Tok::RBrace;
    }
    return false;
  }

  const Node* parse_expr_function() {
    DepthGuard guard(*this);
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Id: {
        Tok k1 = peek(1).kind;
        if (k1 == Tok::Colon) {
          const Token& id = take();
          take();
          auto* lam = ast_.make<LambdaNode>(id.pos);
          lam->arg = id.text;
          lam->arg_pos = id.pos;
          lam->body = parse_expr_function();
          child(lam, lam->body);
          return lam;
        }
        if (k1 == Tok::At) {
          const Token& id = take();
          take();
          expect(Tok::LBrace, "'{'");
          auto* lam = ast_.make<LambdaNode>(id.pos);
          lam->arg = id.text;
          lam->arg_pos = id.pos;
          parse_formals(lam);
          expect(Tok::Colon, "':'");
          return finish_formals_lambda(lam);
        }
        break;
      }
      case Tok::LBrace: {
        if (!formals_ahead()) break;
        const Token& open = take();
        auto* lam = ast_.make<LambdaNode>(open.pos);
        parse_formals(lam);
        const Token& n = peek();
        if (n.kind == Tok::Colon) {
          take();
        } else if (n.kind == Tok::At) {
          take();
          const Token& id = expect(Tok::Id, "ID");
          lam->arg = id.text;
          lam->arg_pos = id.pos;
          expect(Tok::Colon, "':'");
        } else {
          unexpected(n, "':' or '@'");
        }
        return finish_formals_lambda(lam);
      }
      case Tok::Assert: {
        const Token& kw = take();
        auto* n = ast_.make<AssertNode>(kw.pos);
        n->condition = parse_expr();
        expect(Tok::Semi, "';'");
        n->body = parse_expr_function();
        child(n, n->condition);
        child(n, n->body);
        return n;
      }
      case Tok::With: {
        const Token& kw = take();
        auto* n = ast_.make<WithNode>(kw.pos);
        n->scope = parse_expr();
        expect(Tok::Semi, "';'");
        n->body = parse_expr_function();
        child(n, n->scope);
        child(n, n->body);
        return n;
      }
      case Tok::Let: {
        if (peek(1).kind == Tok::LBrace) break;  // let { ... }: the old syntax, an expr_simple
        const Pos kw_pos = take().pos;
        auto* n = ast_.make<LetNode>(kw_pos);
        size_t start = s_.bindings.size();
        parse_binds(s_.defs.new_map(), Tok::In);
        n->bindings = pop_list(s_.bindings, start);
        take();  // in
        n->body = parse_expr_function();
        child_bindings(n, n->bindings);
        child(n, n->body);
        for (const auto& b : n->bindings)
          if (b.kind == Binding::Kind::Attr && !b.path.front().is_static())
            fail(kw_pos, "dynamic attributes not allowed in let");
        return n;
      }
      default:
        break;
    }
    return parse_expr_if();
  }

  void parse_formals(LambdaNode* lam) {
    lam->has_formals = true;
    const size_t start = s_.formals.size();
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::RBrace) break;
      if (t.kind == Tok::Ellipsis) {
        take();
        lam->ellipsis = true;
        if (peek().kind != Tok::RBrace) unexpected(peek(), "'}'");
        break;
      }
      if (t.kind != Tok::Id) unexpected(t, "'}'");
      const Token& id = take();
      Formal f;
      f.pos = id.pos;
      f.name = id.text;
      if (peek().kind == Tok::Question) {
        take();
        f.default_value = parse_expr();
        child(lam, f.default_value);
      }
      s_.formals.push_back(f);
      const Token& n = peek();
      if (n.kind == Tok::Comma) {
        take();
        continue;
      }
      if (n.kind == Tok::RBrace) break;
      unexpected(n, "'}'");
    }
    take();  // }
    lam->formals = pop_list(s_.formals, start);
  }

  const Node* finish_formals_lambda(LambdaNode* lam) {
    lam->body = parse_expr_function();
    child(lam, lam->body);
    // Checked when nix reduces the lambda, i.e. after its body.
    // nix reports the duplicated name that entered its symbol table first (approximated by the
    // first occurrence in the formals), at its second occurrence.
    const Formal* dup = nullptr;
    const auto& formals = lam->formals;
    size_t best_first = SIZE_MAX;
    if (formals.size() <= 16) {
      for (size_t i = 1; i < formals.size(); ++i) {
        size_t j = 0;
        while (j < i && formals[j].name != formals[i].name) ++j;
        if (j < i && j < best_first) {
          best_first = j;
          dup = &formals[i];
        }
      }
    } else {
      std::unordered_map<std::string_view, size_t> first;  // name -> index of first occurrence
      for (size_t i = 0; i < formals.size(); ++i) {
        const Formal& f = formals[i];
        auto [it, inserted] = first.emplace(f.name, i);
        if (!inserted && it->second < best_first) {
          best_first = it->second;
          dup = &f;
        }
      }
    }
    if (dup) fail(dup->pos, "duplicate formal function argument '" + std::string(dup->name) + "'");
    if (!lam->arg.empty())
      for (const auto& f : formals)
        if (f.name == lam->arg)
          fail(lam->pos, "duplicate formal function argument '" + std::string(lam->arg) + "'");
    return lam;
  }

  const Node* parse_expr_if() {
    if (peek().kind != Tok::If) return parse_expr_op(0);
    const Token& kw = take();
    auto* n = ast_.make<IfNode>(kw.pos);
    n->condition = parse_expr();
    expect(Tok::Then, "THEN");
    n->then_branch = parse_expr();
    expect(Tok::Else, "ELSE");
    n->else_branch = parse_expr();
    child(n, n->condition);
    child(n, n->then_branch);
    child(n, n->else_branch);
    return n;
  }

  // Precedences from nix's parser.y (higher binds tighter).
  enum Prec : int { PImpl = 1, POr, PAnd, PEq, PCmp, PUpdate, PNot, PAdd, PMul, PConcat, PHas, PNeg };
  enum class Assoc : uint8_t { Left, Right, None };
  struct OpInfo {
    int prec = 0;
    Assoc assoc = Assoc::Left;
    BinaryOperator op = BinaryOperator::Add;
  };
  static OpInfo binop(Tok k) {
    switch (k) {
      case Tok::Impl: return {PImpl, Assoc::Right, BinaryOperator::Impl};
      case Tok::Or: return {POr, Assoc::Left, BinaryOperator::Or};
      case Tok::And: return {PAnd, Assoc::Left, BinaryOperator::And};
      case Tok::Eq: return {PEq, Assoc::None, BinaryOperator::Eq};
      case Tok::Neq: return {PEq, Assoc::None, BinaryOperator::Ne};
      case Tok::Lt: return {PCmp, Assoc::None, BinaryOperator::Lt};
      case Tok::Leq: return {PCmp, Assoc::None, BinaryOperator::Le};
      case Tok::Gt: return {PCmp, Assoc::None, BinaryOperator::Gt};
      case Tok::Geq: return {PCmp, Assoc::None, BinaryOperator::Ge};
      case Tok::Update: return {PUpdate, Assoc::Right, BinaryOperator::Update};
      case Tok::Plus: return {PAdd, Assoc::Left, BinaryOperator::Add};
      case Tok::Minus: return {PAdd, Assoc::Left, BinaryOperator::Sub};
      case Tok::Star: return {PMul, Assoc::Left, BinaryOperator::Mul};
      case Tok::Slash: return {PMul, Assoc::Left, BinaryOperator::Div};
      case Tok::Concat: return {PConcat, Assoc::Right, BinaryOperator::Concat};
      default: return {};
    }
  }

  const Node* parse_expr_op(int min_prec) {
    DepthGuard guard(*this);
    const Node* lhs;
    const Token& t = peek();
    if (t.kind == Tok::Bang || t.kind == Tok::Minus) {
      const Token& op = take();
      bool is_not = op.kind == Tok::Bang;
      auto* n = ast_.make<UnaryOpNode>(op.pos, is_not ? UnaryOperator::Not : UnaryOperator::Negate);
      n->operand = parse_expr_op(is_not ? PNot + 1 : PNeg + 1);
      child(n, n->operand);
      lhs = n;
    } else {
      lhs = parse_expr_app();
    }
    int last_nonassoc = 0;
    for (;;) {
      const Token& o = peek();
      if (o.kind == Tok::Question) {
        if (PHas < min_prec) break;
        take();
        auto* n = ast_.make<HasAttrNode>(lhs->pos);
        n->expr = lhs;
        n->path = parse_attrpath();
        child(n, lhs);
        child_path(n, n->path);
        lhs = n;
        last_nonassoc = 0;
        continue;
      }
      OpInfo info = binop(o.kind);
      if (info.prec == 0 || info.prec < min_prec) break;
      if (info.assoc == Assoc::None && last_nonassoc == info.prec) unexpected(o);
      const Pos op_pos = take().pos;
      const Node* rhs = parse_expr_op(info.assoc == Assoc::Right ? info.prec : info.prec + 1);
      auto* n = ast_.make<BinaryOpNode>(lhs->pos, info.op);
      n->op_pos = op_pos;
      n->lhs = lhs;
      n->rhs = rhs;
      child(n, lhs);
      child(n, rhs);
      lhs = n;
      last_nonassoc = info.assoc == Assoc::None ? info.prec : 0;
    }
    return lhs;
  }

  static bool starts_select(Tok k) {
    switch (k) {
      case Tok::Id: case Tok::Int: case Tok::Float: case Tok::Quote: case Tok::IndStringOpen:
      case Tok::Path: case Tok::HPath: case Tok::SPath: case Tok::Uri: case Tok::LParen:
      case Tok::Let: case Tok::Rec: case Tok::LBrace: case Tok::LBracket:
        return true;
      default:
        return false;
    }
  }

  const Node* parse_expr_app() {
    const Node* f = parse_expr_select();
    if (!starts_select(peek().kind)) return f;
    auto* call = ast_.make<CallNode>(f->pos);
    call->function = f;
    child(call, f);
    const size_t start = s_.nodes.size();
    while (starts_select(peek().kind)) {
      const Node* a = parse_expr_select();
      s_.nodes.push_back(a);
      child(call, a);
    }
    call->args = pop_list(s_.nodes, start);
    return call;
  }

  const Node* parse_expr_select() {
    DepthGuard guard(*this);
    const Node* s = parse_expr_simple();
    const Token& t = peek();
    if (t.kind == Tok::Dot) {
      take();
      auto* n = ast_.make<SelectNode>(s->pos);
      n->expr = s;
      n->path = parse_attrpath();
      child(n, s);
      child_path(n, n->path);
      if (peek().kind == Tok::OrKw) {
        take();
        n->default_value = parse_expr_select();
        child(n, n->default_value);
      }
      return n;
    }
    if (t.kind == Tok::OrKw) {
      // `f or`: nix applies f to a variable named "or" (backwards compatibility).
      take();
      auto* call = ast_.make<CallNode>(s->pos);
      call->function = s;
      const Node* or_var = ast_.make<VarNode>(s->pos, "or");
      call->args = ast_.arena().copy(&or_var, 1);
      child(call, s);
      child(call, call->args.back());
      return call;
    }
    return s;
  }

  AttrName parse_attr(bool in_inherit) {
    const Token& t = peek();
    AttrName a;
    a.pos = t.pos;
    switch (t.kind) {
      case Tok::Id:
        a.name = take().text;
        return a;
      case Tok::OrKw:
        take();
        a.name = "or";
        return a;
      case Tok::Quote: {
        const StringNode* s = parse_string();
        if (s == last_plain_string_) {
          a.name = s->constant_view();
        } else {
          if (in_inherit) fail(a.pos, "dynamic attributes not allowed in inherit");
          a.dynamic = s;
        }
        return a;
      }
      case Tok::DollarCurly: {
        take();
        const Node* e = parse_expr();
        expect(Tok::RBrace, "'}'");
        if (e == last_plain_string_) {
          a.name = static_cast<const StringNode*>(e)->constant_view();
        } else {
          if (in_inherit) fail(a.pos, "dynamic attributes not allowed in inherit");
          a.dynamic = e;
        }
        return a;
      }
      default:
        unexpected(t, "ID or OR_KW or DOLLAR_CURLY or '\"'");
    }
  }

  AttrPath parse_attrpath() {
    const size_t start = s_.names.size();
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::Id) {
        // The common case, written in place (see parse_binds).
        AttrName& a = s_.names.emplace_back();
        a.pos = t.pos;
        a.name = t.text;
        take();
      } else {
        AttrName a = parse_attr(false);
        s_.names.push_back(a);
      }
      if (peek().kind != Tok::Dot) break;
      take();
    }
    return pop_list(s_.names, start);
  }

  const Node* parse_expr_simple() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Id: {
        const Token& id = take();
        if (id.text == "__curPos") return ast_.make<CurPosNode>(id.pos);
        return ast_.make<VarNode>(id.pos, id.text);
      }
      case Tok::Int: {
        const Token& n = take();
        return ast_.make<IntNode>(n.pos, n.int_value);
      }
      case Tok::Float: {
        const Token& n = take();
        return ast_.make<FloatNode>(n.pos, n.float_value);
      }
      case Tok::Quote:
        return parse_string();
      case Tok::IndStringOpen:
        return parse_ind_string();
      case Tok::Path:
      case Tok::HPath:
        return parse_path();
      case Tok::SPath: {
        const Token& p = take();
        auto* n = ast_.make<PathNode>(p.pos, PathKind::Search);
        StringPart part;
        part.pos = p.pos;
        part.literal = p.text.substr(1, p.text.size() - 2);
        n->parts = ast_.arena().copy(&part, 1);
        return n;
      }
      case Tok::Uri: {
        const Token& u = take();
        return ast_.make<UriNode>(u.pos, u.text);
      }
      case Tok::LParen: {
        take();
        const Node* e = parse_expr();
        expect(Tok::RParen, "')'");
        return e;
      }
      case Tok::Let:
      case Tok::Rec: {
        const Token& kw = take();
        expect(Tok::LBrace, "'{'");
        return parse_attrset_body(kw.pos, true, kw.kind == Tok::Let);
      }
      case Tok::LBrace: {
        const Token& open = take();
        return parse_attrset_body(open.pos, false, false);
      }
      case Tok::LBracket: {
        const Token& open = take();
        auto* n = ast_.make<ListNode>(open.pos);
        const size_t start = s_.nodes.size();
        while (starts_select(peek().kind)) {
          const Node* e = parse_expr_select();
          s_.nodes.push_back(e);
          child(n, e);
        }
        if (peek().kind != Tok::RBracket) unexpected(peek());
        take();
        n->elements = pop_list(s_.nodes, start);
        return n;
      }
      default:
        unexpected(t);
    }
  }

  const Node* parse_attrset_body(Pos pos, bool rec, bool let_block) {
    auto* n = ast_.make<AttrSetNode>(pos);
    n->recursive = rec;
    n->let_block = let_block;
    const uint32_t defs = s_.defs.new_map();
    const size_t start = s_.bindings.size();
    parse_binds(defs, Tok::RBrace);
    n->bindings = pop_list(s_.bindings, start);
    take();  // }
    child_bindings(n, n->bindings);
    if (!let_block) {
      // def_for_value() takes them when the set is a binding's value: then it is the set
      // completed last.
      last_set_ = n;
      last_set_defs_ = defs;
    }
    return n;
  }

  // Bindings up to `end`, pushed on s_.bindings; names defined go into map `defs`.
  void parse_binds(uint32_t defs, Tok end) {
    const Pos binds_start = prev_end_;
    for (;;) {
      const Token& t = peek();
      if (t.kind == end) return;
      if (t.kind == Tok::Inherit) {
        const Token& kw = take();
        Binding b;
        b.kind = Binding::Kind::Inherit;
        b.pos = kw.pos;
        b.scope_pos = binds_start;
        if (peek().kind == Tok::LParen) {
          take();
          b.from = parse_expr();
          expect(Tok::RParen, "')'");
        }
        Pos names_pos = prev_end_;  // nix's position of the inherited names
        const size_t start = s_.names.size();
        for (;;) {
          Tok k = peek().kind;
          if (k != Tok::Id && k != Tok::OrKw && k != Tok::Quote && k != Tok::DollarCurly) break;
          AttrName a = parse_attr(true);
          s_.names.push_back(a);
        }
        if (peek().kind != Tok::Semi) unexpected(peek());
        take();
        b.path = pop_list(s_.names, start);
        for (const auto& a : b.path) {
          if (const Def* prev = s_.defs.find(defs, a.name)) dup_attr(a.name, names_pos, prev->pos);
          Def d;
          d.kind = b.from ? Def::Kind::Other : Def::Kind::Inherited;
          d.pos = names_pos;
          s_.defs.insert(defs, a.name, d);
        }
        s_.bindings.push_back(b);
        continue;
      }
      if (t.kind == Tok::Id || t.kind == Tok::OrKw || t.kind == Tok::Quote ||
          t.kind == Tok::DollarCurly) {
        const Pos pos = t.pos;
        const AttrPath path = parse_attrpath();
        expect(Tok::Assign, "'.' or '='");
        const Node* value = parse_expr();
        expect(Tok::Semi, "';'");
        // Written in place once the nested parsing is done (a Binding built on the stack and
        // copied in is read back wider than it was written: a store-forwarding stall).
        Binding& b = s_.bindings.emplace_back();
        b.kind = Binding::Kind::Attr;
        b.pos = pos;
        b.path = path;
        b.value = value;
        add_attr(defs, b);
        continue;
      }
      unexpected(t);
    }
  }

  // ---- duplicate attributes (nix's addAttr, with newer Nix's recursive merge) ----
  [[noreturn]] void dup_attr(std::string_view path, Pos pos, Pos prev) {
    fail(pos, "attribute '" + std::string(path) + "' already defined at " + pos_text(filename_, prev));
  }

  Def def_for_value(const Node* value, Pos pos) {
    Def d;
    d.pos = pos;
    if (auto* set = value->as<AttrSetNode>(); set && !set->let_block) {
      d.kind = Def::Kind::Set;
      if (set == last_set_) {
        d.children = last_set_defs_;
        last_set_ = nullptr;
      } else {
        d.children = s_.defs.new_map();
      }
    } else {
      d.kind = Def::Kind::Other;
    }
    return d;
  }

  void add_attr(uint32_t root, const Binding& b) {
    const AttrPath path = b.path;
    uint32_t m = root;
    for (size_t k = 0; k + 1 < path.size(); ++k) {
      const AttrName& a = path[k];
      if (!a.is_static()) return;  // a fresh dynamic set: nothing to collide with
      if (const Def* prev = s_.defs.find(m, a.name)) {
        if (!prev->setish()) dup_attr(attr_path_to_string(path), b.pos, prev->pos);
        m = prev->children;
      } else {
        Def d;
        d.kind = Def::Kind::Implicit;
        d.pos = b.pos;
        d.children = s_.defs.new_map();
        s_.defs.insert(m, a.name, d);
        m = d.children;
      }
    }
    const AttrName& last = path.back();
    if (!last.is_static()) return;
    Def d = def_for_value(b.value, b.pos);
    const Def* prev = s_.defs.find(m, last.name);
    if (!prev) {
      s_.defs.insert(m, last.name, d);
      return;
    }
    if (prev->setish() && d.kind == Def::Kind::Set) {
      merge(prev->children, d.children);
      return;
    }
    dup_attr(attr_path_to_string(path), b.pos, prev->pos);
  }

  void merge(uint32_t into, uint32_t from) {
    std::vector<std::pair<std::string_view, Def>> entries;  // rare: only sets written twice
    s_.defs.sorted_entries(from, entries);
    for (const auto& [name, def] : entries) {
      const Def* prev = s_.defs.find(into, name);
      if (!prev) {
        s_.defs.insert(into, name, def);
      } else if (prev->setish() && def.setish()) {
        merge(prev->children, def.children);  // newer Nix; 2.8 reports a duplicate here
      } else {
        dup_attr(name, prev->pos, def.pos);  // nix reports the first one, "defined at" the new
      }
    }
  }

  // ---- strings and paths ----
  // A "..." chunk decoded: a view of the source when it has nothing to decode.
  std::string_view decode_string(std::string_view raw) {
    bool plain = true;
    for (char c : raw)
      if (c == '\\' || c == '\r' || c == '\0') {
        plain = false;
        break;
      }
    if (plain) return raw;
    s_.text.clear();
    detail::unescape_string(raw, s_.text);
    return ast_.arena().copy(s_.text);
  }
  // `a` followed by `b`: a longer view when they are adjacent in the source (the pieces of a
  // path are), else a copy.
  std::string_view concat(std::string_view a, std::string_view b) {
    if (a.empty()) return b;
    if (b.empty()) return a;
    if (a.data() + a.size() == b.data()) return {a.data(), a.size() + b.size()};
    s_.text.assign(a);
    s_.text += b;
    return ast_.arena().copy(s_.text);
  }

  const StringNode* parse_string() {
    const Token& open = take();  // "
    auto* n = ast_.make<StringNode>(open.pos, false);
    const size_t start = s_.parts.size();
    size_t tokens = 0;
    bool interpolated = false;
    bool last_str = false;
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::Str) {
        if (last_str) unexpected(t, "'\"'");
        last_str = true;
        const Token& s = take();
        ++tokens;
        // Two STR tokens in a row are an error (above): a literal always starts a new part.
        StringPart& p = s_.parts.emplace_back();
        p.pos = s.pos;
        p.literal = decode_string(s.text);
      } else if (t.kind == Tok::DollarCurly) {
        last_str = false;
        take();
        ++tokens;
        interpolated = true;
        StringPart p;
        p.pos = t.pos;
        p.expr = parse_expr();
        expect(Tok::RBrace, "'}'");
        child(n, p.expr);
        s_.parts.push_back(p);
      } else if (t.kind == Tok::Quote) {
        take();
        break;
      } else {
        unexpected(t, "'\"'");
      }
    }
    n->parts = pop_list(s_.parts, start);
    if (!interpolated && tokens <= 1) last_plain_string_ = n;
    return n;
  }

  const Node* parse_ind_string() {
    const Token& open = take();
    auto* n = ast_.make<StringNode>(open.pos, true);
    const size_t start = s_.ind_items.size();
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::IndStr) {
        const Token& s = take();
        s_.ind_items.push_back({s.pos, nullptr, s.value, s.ind});
      } else if (t.kind == Tok::DollarCurly) {
        take();
        IndItem it;
        it.pos = t.pos;
        it.expr = parse_expr();
        expect(Tok::RBrace, "'}'");
        child(n, it.expr);
        s_.ind_items.push_back(it);
      } else if (t.kind == Tok::IndStringClose) {
        take();
        break;
      } else {
        unexpected(t, "IND_STR or DOLLAR_CURLY or IND_STRING_CLOSE");
      }
    }
    strip_indentation(n, std::span<const IndItem>(s_.ind_items.data() + start, s_.ind_items.size() - start));
    s_.ind_items.resize(start);
    return n;
  }

  // nix's stripIndentation, literally (adjacent literal parts merged, empty ones dropped).
  void strip_indentation(StringNode* n, std::span<const IndItem> es) {
    if (es.empty()) {
      last_plain_string_ = n;
      return;
    }
    bool at_start = true;
    size_t min_indent = 1000000;
    size_t cur_indent = 0;
    for (const auto& i : es) {
      if (i.expr || i.kind != IndKind::Raw) {
        if (at_start) {
          at_start = false;
          if (cur_indent < min_indent) min_indent = cur_indent;
        }
        continue;
      }
      for (char c : i.text) {
        if (at_start) {
          if (c == ' ') {
            cur_indent++;
          } else if (c == '\n') {
            cur_indent = 0;
          } else {
            at_start = false;
            if (cur_indent < min_indent) min_indent = cur_indent;
          }
        } else if (c == '\n') {
          at_start = true;
          cur_indent = 0;
        }
      }
    }
    at_start = true;
    size_t cur_dropped = 0;
    size_t remaining = es.size();
    size_t out_parts = 0;
    bool only_literal = true;
    const size_t start = s_.parts.size();
    // The literal run being built (s_.text) and where it started.
    bool in_run = false;
    Pos run_pos;
    std::string& run = s_.text;
    auto flush = [&] {
      if (in_run && !run.empty()) {
        StringPart p;
        p.pos = run_pos;
        p.literal = ast_.arena().copy(run);
        s_.parts.push_back(p);
      }
      in_run = false;
    };
    for (const auto& i : es) {
      if (i.expr) {
        at_start = false;
        cur_dropped = 0;
        flush();
        StringPart p;
        p.pos = i.pos;
        p.expr = i.expr;
        s_.parts.push_back(p);
        only_literal = false;
        ++out_parts;
      } else {
        std::string& s2 = s_.line;
        s2.clear();
        std::string decoded;
        std::string_view text = i.text;
        if (i.kind == IndKind::Escape) {
          detail::unescape_string(i.text, decoded);  // i.text is "\\x"
          text = decoded;
        }
        for (char c : text) {
          if (at_start) {
            if (c == ' ') {
              if (cur_dropped++ >= min_indent) s2 += c;
            } else if (c == '\n') {
              cur_dropped = 0;
              s2 += c;
            } else {
              at_start = false;
              cur_dropped = 0;
              s2 += c;
            }
          } else {
            s2 += c;
            if (c == '\n') at_start = true;
          }
        }
        if (remaining == 1) {
          auto p = s2.find_last_of('\n');
          if (p != std::string::npos && s2.find_first_not_of(' ', p + 1) == std::string::npos)
            s2.resize(p + 1);
        }
        ++out_parts;
        if (!in_run) {
          in_run = true;
          run_pos = i.pos;
          run.clear();
        }
        run += s2;
      }
      --remaining;
    }
    flush();
    n->parts = pop_list(s_.parts, start);
    if (out_parts == 1 && only_literal) last_plain_string_ = n;
  }

  const Node* parse_path() {
    const Token& first = take();
    PathKind kind = first.kind == Tok::HPath ? PathKind::Home
                    : first.text.front() == '/' ? PathKind::Absolute
                                                : PathKind::Relative;
    auto* n = ast_.make<PathNode>(first.pos, kind);
    const size_t start = s_.parts.size();
    StringPart head;
    head.pos = first.pos;
    head.literal = first.text;
    s_.parts.push_back(head);
    bool interpolated = false;
    bool pending_str = false;  // a STR right after the path start must be followed by ${
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::Str) {
        if (!interpolated && pending_str) unexpected(t, "DOLLAR_CURLY");
        const Token& s = take();
        pending_str = true;
        if (s_.parts.back().is_literal()) {
          s_.parts.back().literal = concat(s_.parts.back().literal, s.text);
        } else {
          StringPart p;
          p.pos = s.pos;
          p.literal = s.text;
          s_.parts.push_back(p);
        }
      } else if (t.kind == Tok::DollarCurly) {
        take();
        interpolated = true;
        StringPart p;
        p.pos = t.pos;
        p.expr = parse_expr();
        expect(Tok::RBrace, "'}'");
        child(n, p.expr);
        s_.parts.push_back(p);
      } else if (t.kind == Tok::PathEnd) {
        if (!interpolated && pending_str) unexpected(t, "DOLLAR_CURLY");
        take();
        n->parts = pop_list(s_.parts, start);
        return n;
      } else {
        unexpected(t);
      }
    }
  }

  Lexer lex_;
  std::string_view filename_;
  const ParseOptions& options_;
  Ast& ast_;
  Token buf_[4];
  unsigned head_ = 0;
  unsigned nbuf_ = 0;
  Pos prev_end_{1, 1};
  uint32_t depth_ = 0;
  Scratch& s_;
  // The attribute set completed last and its map of names (see parse_attrset_body).
  const AttrSetNode* last_set_ = nullptr;
  uint32_t last_set_defs_ = 0;
  // The string completed last when it counts as a plain name in an attribute path ("a",
  // ${"a"}, ''a''); strings inside an expression complete before the expression's own.
  const Node* last_plain_string_ = nullptr;
};

// ---- undefined variables (nix's bindVars) ----
class ScopeChecker {
 public:
  void check(const Node& n) { visit(&n); }

 private:
  struct Frame {
    bool with = false;
    std::vector<std::string_view> names;
  };

  bool defined(std::string_view name) const {
    for (auto it = frames_.rbegin(); it != frames_.rend(); ++it) {
      if (it->with) return true;
      if (std::find(it->names.begin(), it->names.end(), name) != it->names.end()) return true;
    }
    return is_builtin_name(name);
  }
  void lookup(std::string_view name, Pos pos) {
    if (!defined(name)) throw Failure{pos, "undefined variable '" + std::string(name) + "'"};
  }
  void visit_path(AttrPath path) {
    for (const auto& a : path) visit(a.dynamic);
  }
  static void collect(std::span<const Binding> bs, Frame& f) {
    for (const auto& b : bs) {
      if (b.kind == Binding::Kind::Attr) {
        if (b.path.front().is_static()) f.names.push_back(b.path.front().name);
      } else {
        for (const auto& a : b.path) f.names.push_back(a.name);
      }
    }
  }
  // Bindings of a rec set or let: values see the new scope, `inherit x;` the outer one.
  void visit_recursive_bindings(std::span<const Binding> bs) {
    Frame f;
    collect(bs, f);
    for (const auto& b : bs)
      if (b.kind == Binding::Kind::Inherit && !b.from)
        for (const auto& a : b.path) lookup(a.name, b.scope_pos);
    frames_.push_back(std::move(f));
    for (const auto& b : bs) {
      if (b.kind == Binding::Kind::Attr) {
        visit_path(b.path);
        visit(b.value);
      } else if (b.from) {
        visit(b.from);
      }
    }
  }

  void visit(const Node* n) {
    if (!n) return;
    switch (n->kind) {
      case NodeKind::Int: case NodeKind::Float: case NodeKind::Uri: case NodeKind::CurPos:
        return;
      case NodeKind::String:
        for (const auto& p : static_cast<const StringNode*>(n)->parts) visit(p.expr);
        return;
      case NodeKind::Path:
        for (const auto& p : static_cast<const PathNode*>(n)->parts) visit(p.expr);
        return;
      case NodeKind::Var: {
        auto* v = static_cast<const VarNode*>(n);
        lookup(v->name, v->pos);
        return;
      }
      case NodeKind::Select: {
        auto* s = static_cast<const SelectNode*>(n);
        visit(s->expr);
        visit_path(s->path);
        visit(s->default_value);
        return;
      }
      case NodeKind::HasAttr: {
        auto* s = static_cast<const HasAttrNode*>(n);
        visit(s->expr);
        visit_path(s->path);
        return;
      }
      case NodeKind::AttrSet: {
        auto* s = static_cast<const AttrSetNode*>(n);
        if (s->recursive) {
          size_t depth = frames_.size();
          visit_recursive_bindings(s->bindings);
          frames_.resize(depth);
        } else {
          for (const auto& b : s->bindings) {
            if (b.kind == Binding::Kind::Attr) {
              visit_path(b.path);
              visit(b.value);
            } else if (b.from) {
              visit(b.from);
            } else {
              for (const auto& a : b.path) lookup(a.name, b.scope_pos);
            }
          }
        }
        return;
      }
      case NodeKind::List:
        for (auto* e : static_cast<const ListNode*>(n)->elements) visit(e);
        return;
      case NodeKind::Lambda: {
        auto* l = static_cast<const LambdaNode*>(n);
        Frame f;
        if (!l->arg.empty()) f.names.push_back(l->arg);
        for (const auto& fo : l->formals) f.names.push_back(fo.name);
        frames_.push_back(std::move(f));
        for (const auto& fo : l->formals) visit(fo.default_value);
        visit(l->body);
        frames_.pop_back();
        return;
      }
      case NodeKind::Call: {
        auto* c = static_cast<const CallNode*>(n);
        visit(c->function);
        for (auto* a : c->args) visit(a);
        return;
      }
      case NodeKind::Let: {
        auto* l = static_cast<const LetNode*>(n);
        size_t depth = frames_.size();
        visit_recursive_bindings(l->bindings);
        visit(l->body);
        frames_.resize(depth);
        return;
      }
      case NodeKind::With: {
        auto* w = static_cast<const WithNode*>(n);
        visit(w->scope);
        frames_.push_back(Frame{true, {}});
        visit(w->body);
        frames_.pop_back();
        return;
      }
      case NodeKind::Assert: {
        auto* a = static_cast<const AssertNode*>(n);
        visit(a->condition);
        visit(a->body);
        return;
      }
      case NodeKind::If: {
        auto* i = static_cast<const IfNode*>(n);
        visit(i->condition);
        visit(i->then_branch);
        visit(i->else_branch);
        return;
      }
      case NodeKind::UnaryOp:
        visit(static_cast<const UnaryOpNode*>(n)->operand);
        return;
      case NodeKind::BinaryOp: {
        auto* b = static_cast<const BinaryOpNode*>(n);
        // nix turns a > b and a <= b into __lessThan b a: the right side is bound first.
        bool swapped = b->op == BinaryOperator::Gt || b->op == BinaryOperator::Le;
        visit(swapped ? b->rhs : b->lhs);
        visit(swapped ? b->lhs : b->rhs);
        return;
      }
    }
  }

  std::vector<Frame> frames_;
};

}  // namespace

ParseResult parse(std::string_view source, std::string_view filename) {
  return parse(source, filename, ParseOptions{});
}

ParseResult parse(std::string_view source, std::string_view filename, const ParseOptions& options) {
  ParseResult result;
  auto ast = std::make_unique<Ast>(source.size() * (options.copy_source ? 5 : 4));
  ast->set_filename(filename);
  // The tree's texts are views into the Ast's own copy of the source (or into the source).
  const std::string_view text = options.copy_source ? ast->arena().copy(source) : source;
  thread_local Scratch scratch;
  scratch.clear();
  try {
    Parser parser(text, ast->filename(), options, *ast, scratch);
    const Node* root = parser.parse_file();
    ast->set_root(root);
    if (options.check_undefined_variables) ScopeChecker().check(*root);
  } catch (Failure& f) {
    result.error.filename = std::string(filename);
    result.error.line = f.pos.line;
    result.error.col = f.pos.col;
    result.error.message = std::move(f.message);
    return result;
  }
  result.ast = std::move(ast);
  return result;
}

}  // namespace tsfleet::nix
