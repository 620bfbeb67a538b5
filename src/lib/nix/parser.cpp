// The Nix parser: recursive descent for the statement-like forms, precedence climbing for the
// operators, checked against nix's bison grammar (parser.y of Nix 2.x) so that an error is
// reported at the first token that cannot continue any valid program, like nix does.
#include "tsfleet/nix/parser.h"

#include <algorithm>
#include <array>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "lexer.h"

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
struct Def;
using DefMap = std::map<std::string, Def, std::less<>>;
struct Def {
  enum class Kind : uint8_t { Implicit, Set, Other, Inherited } kind = Kind::Other;
  Pos pos;
  std::unique_ptr<DefMap> children;  // Implicit and Set
  bool setish() const { return kind == Kind::Implicit || kind == Kind::Set; }
};

std::string pos_text(std::string_view file, Pos p) {
  return std::string(file) + ":" + std::to_string(p.line) + ":" + std::to_string(p.col);
}

class Parser {
 public:
  Parser(std::string_view src, std::string_view filename, const ParseOptions& options, Ast& ast)
      : lex_(src), filename_(filename), options_(options), ast_(ast) {}

  const Node* parse_file() {
    const Node* e = parse_expr();
    const Token& t = peek();
    if (t.kind != Tok::Eof) unexpected(t, "end of file");
    return e;
  }

 private:
  // ---- tokens ----
  const Token& peek(size_t k = 0) {
    while (nbuf_ <= k) {
      Token t = lex_.next();
      if (t.kind == Tok::Error) {
        std::string msg = t.error;
        if (msg != "path has a trailing slash") msg += " '" + std::string(t.text) + "'";
        throw Failure{t.pos, msg};
      }
      buf_[nbuf_++] = t;
    }
    return buf_[k];
  }
  Token take() {
    peek();
    Token t = buf_[0];
    for (size_t i = 1; i < nbuf_; ++i) buf_[i - 1] = buf_[i];
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
  Token expect(Tok kind, std::string_view expecting) {
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
  void child_path(Node* n, const AttrPath& path) {
    for (const auto& a : path) child(n, a.dynamic);
  }
  void child_bindings(Node* n, const std::vector<Binding>& bs) {
    for (const auto& b : bs) {
      child_path(n, b.path);
      child(n, b.value);
      child(n, b.from);
    }
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
          Token id = take();
          take();
          auto* lam = ast_.make<LambdaNode>(id.pos);
          lam->arg = std::string(id.text);
          lam->arg_pos = id.pos;
          lam->body = parse_expr_function();
          child(lam, lam->body);
          return lam;
        }
        if (k1 == Tok::At) {
          Token id = take();
          take();
          expect(Tok::LBrace, "'{'");
          auto* lam = ast_.make<LambdaNode>(id.pos);
          lam->arg = std::string(id.text);
          lam->arg_pos = id.pos;
          parse_formals(lam);
          expect(Tok::Colon, "':'");
          return finish_formals_lambda(lam);
        }
        break;
      }
      case Tok::LBrace: {
        if (!formals_ahead()) break;
        Token open = take();
        auto* lam = ast_.make<LambdaNode>(open.pos);
        parse_formals(lam);
        const Token& n = peek();
        if (n.kind == Tok::Colon) {
          take();
        } else if (n.kind == Tok::At) {
          take();
          Token id = expect(Tok::Id, "ID");
          lam->arg = std::string(id.text);
          lam->arg_pos = id.pos;
          expect(Tok::Colon, "':'");
        } else {
          unexpected(n, "':' or '@'");
        }
        return finish_formals_lambda(lam);
      }
      case Tok::Assert: {
        Token kw = take();
        auto* n = ast_.make<AssertNode>(kw.pos);
        n->condition = parse_expr();
        expect(Tok::Semi, "';'");
        n->body = parse_expr_function();
        child(n, n->condition);
        child(n, n->body);
        return n;
      }
      case Tok::With: {
        Token kw = take();
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
        Token kw = take();
        auto* n = ast_.make<LetNode>(kw.pos);
        DefMap defs;
        parse_binds(n->bindings, defs, Tok::In);
        take();  // in
        n->body = parse_expr_function();
        child_bindings(n, n->bindings);
        child(n, n->body);
        for (const auto& b : n->bindings)
          if (b.kind == Binding::Kind::Attr && !b.path.front().is_static())
            fail(kw.pos, "dynamic attributes not allowed in let");
        return n;
      }
      default:
        break;
    }
    return parse_expr_if();
  }

  void parse_formals(LambdaNode* lam) {
    lam->has_formals = true;
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
      Token id = take();
      Formal f;
      f.pos = id.pos;
      f.name = std::string(id.text);
      if (peek().kind == Tok::Question) {
        take();
        f.default_value = parse_expr();
        child(lam, f.default_value);
      }
      lam->formals.push_back(std::move(f));
      const Token& n = peek();
      if (n.kind == Tok::Comma) {
        take();
        continue;
      }
      if (n.kind == Tok::RBrace) break;
      unexpected(n, "'}'");
    }
    take();  // }
  }

  const Node* finish_formals_lambda(LambdaNode* lam) {
    lam->body = parse_expr_function();
    child(lam, lam->body);
    // Checked when nix reduces the lambda, i.e. after its body.
    // nix reports the duplicated name that entered its symbol table first (approximated by the
    // first occurrence in the formals), at its second occurrence.
    const Formal* dup = nullptr;
    {
      std::unordered_map<std::string_view, size_t> first;  // name -> index of first occurrence
      size_t best_first = SIZE_MAX;
      for (size_t i = 0; i < lam->formals.size(); ++i) {
        const Formal& f = lam->formals[i];
        auto [it, inserted] = first.emplace(f.name, i);
        if (!inserted && it->second < best_first) {
          best_first = it->second;
          dup = &f;
        }
      }
    }
    if (dup) fail(dup->pos, "duplicate formal function argument '" + dup->name + "'");
    if (!lam->arg.empty())
      for (const auto& f : lam->formals)
        if (f.name == lam->arg)
          fail(lam->pos, "duplicate formal function argument '" + lam->arg + "'");
    return lam;
  }

  const Node* parse_expr_if() {
    if (peek().kind != Tok::If) return parse_expr_op(0);
    Token kw = take();
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
      Token op = take();
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
      Token op = take();
      const Node* rhs = parse_expr_op(info.assoc == Assoc::Right ? info.prec : info.prec + 1);
      auto* n = ast_.make<BinaryOpNode>(lhs->pos, info.op);
      n->op_pos = op.pos;
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
    while (starts_select(peek().kind)) {
      const Node* a = parse_expr_select();
      call->args.push_back(a);
      child(call, a);
    }
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
      call->args.push_back(ast_.make<VarNode>(s->pos, "or"));
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
        a.name = std::string(take().text);
        return a;
      case Tok::OrKw:
        take();
        a.name = "or";
        return a;
      case Tok::Quote: {
        const StringNode* s = parse_string();
        if (plain_strings_.count(s)) {
          a.name = s->constant_value();
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
        if (plain_strings_.count(e)) {
          a.name = e->as<StringNode>()->constant_value();
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
    AttrPath path;
    path.push_back(parse_attr(false));
    while (peek().kind == Tok::Dot) {
      take();
      path.push_back(parse_attr(false));
    }
    return path;
  }

  const Node* parse_expr_simple() {
    const Token& t = peek();
    switch (t.kind) {
      case Tok::Id: {
        Token id = take();
        if (id.text == "__curPos") return ast_.make<CurPosNode>(id.pos);
        return ast_.make<VarNode>(id.pos, std::string(id.text));
      }
      case Tok::Int: {
        Token n = take();
        return ast_.make<IntNode>(n.pos, n.int_value);
      }
      case Tok::Float: {
        Token n = take();
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
        Token p = take();
        auto* n = ast_.make<PathNode>(p.pos, PathKind::Search);
        StringPart part;
        part.pos = p.pos;
        part.literal = std::string(p.text.substr(1, p.text.size() - 2));
        n->parts.push_back(std::move(part));
        return n;
      }
      case Tok::Uri: {
        Token u = take();
        return ast_.make<UriNode>(u.pos, std::string(u.text));
      }
      case Tok::LParen: {
        take();
        const Node* e = parse_expr();
        expect(Tok::RParen, "')'");
        return e;
      }
      case Tok::Let:
      case Tok::Rec: {
        Token kw = take();
        expect(Tok::LBrace, "'{'");
        return parse_attrset_body(kw.pos, true, kw.kind == Tok::Let);
      }
      case Tok::LBrace: {
        Token open = take();
        return parse_attrset_body(open.pos, false, false);
      }
      case Tok::LBracket: {
        Token open = take();
        auto* n = ast_.make<ListNode>(open.pos);
        while (starts_select(peek().kind)) {
          const Node* e = parse_expr_select();
          n->elements.push_back(e);
          child(n, e);
        }
        if (peek().kind != Tok::RBracket) unexpected(peek());
        take();
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
    auto defs = std::make_unique<DefMap>();
    parse_binds(n->bindings, *defs, Tok::RBrace);
    take();  // }
    child_bindings(n, n->bindings);
    if (!let_block) set_defs_[n] = std::move(defs);
    return n;
  }

  void parse_binds(std::vector<Binding>& out, DefMap& defs, Tok end) {
    const Pos binds_start = prev_end_;
    for (;;) {
      const Token& t = peek();
      if (t.kind == end) return;
      if (t.kind == Tok::Inherit) {
        Token kw = take();
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
        for (;;) {
          Tok k = peek().kind;
          if (k != Tok::Id && k != Tok::OrKw && k != Tok::Quote && k != Tok::DollarCurly) break;
          b.path.push_back(parse_attr(true));
        }
        if (peek().kind != Tok::Semi) unexpected(peek());
        take();
        for (const auto& a : b.path) {
          auto it = defs.find(a.name);
          if (it != defs.end()) dup_attr(a.name, names_pos, it->second.pos);
          Def d;
          d.kind = b.from ? Def::Kind::Other : Def::Kind::Inherited;
          d.pos = names_pos;
          defs.emplace(a.name, std::move(d));
        }
        out.push_back(std::move(b));
        continue;
      }
      if (t.kind == Tok::Id || t.kind == Tok::OrKw || t.kind == Tok::Quote ||
          t.kind == Tok::DollarCurly) {
        Binding b;
        b.kind = Binding::Kind::Attr;
        b.pos = t.pos;
        b.path = parse_attrpath();
        expect(Tok::Assign, "'.' or '='");
        b.value = parse_expr();
        expect(Tok::Semi, "';'");
        add_attr(defs, b);
        out.push_back(std::move(b));
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
      auto it = set_defs_.find(set);
      if (it != set_defs_.end()) {
        d.children = std::move(it->second);
        set_defs_.erase(it);
      }
      if (!d.children) d.children = std::make_unique<DefMap>();
    } else {
      d.kind = Def::Kind::Other;
    }
    return d;
  }

  void add_attr(DefMap& root, const Binding& b) {
    const AttrPath& path = b.path;
    DefMap* m = &root;
    for (size_t k = 0; k + 1 < path.size(); ++k) {
      const AttrName& a = path[k];
      if (!a.is_static()) return;  // a fresh dynamic set: nothing to collide with
      auto it = m->find(a.name);
      if (it != m->end()) {
        if (!it->second.setish()) dup_attr(attr_path_to_string(path), b.pos, it->second.pos);
        m = it->second.children.get();
      } else {
        Def d;
        d.kind = Def::Kind::Implicit;
        d.pos = b.pos;
        d.children = std::make_unique<DefMap>();
        m = m->emplace(a.name, std::move(d)).first->second.children.get();
      }
    }
    const AttrName& last = path.back();
    if (!last.is_static()) return;
    Def d = def_for_value(b.value, b.pos);
    auto it = m->find(last.name);
    if (it == m->end()) {
      m->emplace(last.name, std::move(d));
      return;
    }
    if (it->second.setish() && d.kind == Def::Kind::Set) {
      merge(*it->second.children, *d.children);
      return;
    }
    dup_attr(attr_path_to_string(path), b.pos, it->second.pos);
  }

  void merge(DefMap& into, DefMap& from) {
    for (auto& [name, def] : from) {
      auto it = into.find(name);
      if (it == into.end()) {
        into.emplace(name, std::move(def));
      } else if (it->second.setish() && def.setish()) {
        merge(*it->second.children, *def.children);  // newer Nix; 2.8 reports a duplicate here
      } else {
        dup_attr(name, it->second.pos, def.pos);  // nix reports the first one, "defined at" the new
      }
    }
  }

  // ---- strings and paths ----
  const StringNode* parse_string() {
    Token open = take();  // "
    auto* n = ast_.make<StringNode>(open.pos, false);
    size_t tokens = 0;
    bool interpolated = false;
    bool last_str = false;
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::Str) {
        if (last_str) unexpected(t, "'\"'");
        last_str = true;
        Token s = take();
        ++tokens;
        if (n->parts.empty() || !n->parts.back().is_literal()) {
          StringPart p;
          p.pos = s.pos;
          n->parts.push_back(std::move(p));
        }
        detail::unescape_string(s.text, n->parts.back().literal);
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
        n->parts.push_back(std::move(p));
      } else if (t.kind == Tok::Quote) {
        take();
        break;
      } else {
        unexpected(t, "'\"'");
      }
    }
    if (!interpolated && tokens <= 1) plain_strings_.insert(n);
    return n;
  }

  struct IndItem {
    Pos pos;
    const Node* expr = nullptr;
    std::string_view text;
    IndKind kind = IndKind::Raw;
  };

  const Node* parse_ind_string() {
    Token open = take();
    auto* n = ast_.make<StringNode>(open.pos, true);
    std::vector<IndItem> items;
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::IndStr) {
        Token s = take();
        items.push_back({s.pos, nullptr, s.value, s.ind});
      } else if (t.kind == Tok::DollarCurly) {
        take();
        IndItem it;
        it.pos = t.pos;
        it.expr = parse_expr();
        expect(Tok::RBrace, "'}'");
        child(n, it.expr);
        items.push_back(it);
      } else if (t.kind == Tok::IndStringClose) {
        take();
        break;
      } else {
        unexpected(t, "IND_STR or DOLLAR_CURLY or IND_STRING_CLOSE");
      }
    }
    strip_indentation(n, items);
    return n;
  }

  // nix's stripIndentation, literally.
  void strip_indentation(StringNode* n, const std::vector<IndItem>& es) {
    if (es.empty()) {
      plain_strings_.insert(n);
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
    for (const auto& i : es) {
      if (i.expr) {
        at_start = false;
        cur_dropped = 0;
        StringPart p;
        p.pos = i.pos;
        p.expr = i.expr;
        n->parts.push_back(std::move(p));
        only_literal = false;
        ++out_parts;
      } else {
        std::string s2;
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
        if (!n->parts.empty() && n->parts.back().is_literal()) {
          n->parts.back().literal += s2;
        } else {
          StringPart p;
          p.pos = i.pos;
          p.literal = std::move(s2);
          n->parts.push_back(std::move(p));
        }
      }
      --remaining;
    }
    // Drop empty literal parts (nix keeps them; they change nothing).
    n->parts.erase(std::remove_if(n->parts.begin(), n->parts.end(),
                                  [](const StringPart& p) { return p.is_literal() && p.literal.empty(); }),
                   n->parts.end());
    if (out_parts == 1 && only_literal) plain_strings_.insert(n);
  }

  const Node* parse_path() {
    Token first = take();
    PathKind kind = first.kind == Tok::HPath ? PathKind::Home
                    : first.text.front() == '/' ? PathKind::Absolute
                                                : PathKind::Relative;
    auto* n = ast_.make<PathNode>(first.pos, kind);
    StringPart head;
    head.pos = first.pos;
    head.literal = std::string(first.text);
    n->parts.push_back(std::move(head));
    bool interpolated = false;
    bool pending_str = false;  // a STR right after the path start must be followed by ${
    for (;;) {
      const Token& t = peek();
      if (t.kind == Tok::Str) {
        if (!interpolated && pending_str) unexpected(t, "DOLLAR_CURLY");
        Token s = take();
        pending_str = true;
        if (n->parts.back().is_literal()) {
          n->parts.back().literal += s.text;
        } else {
          StringPart p;
          p.pos = s.pos;
          p.literal = std::string(s.text);
          n->parts.push_back(std::move(p));
        }
      } else if (t.kind == Tok::DollarCurly) {
        take();
        interpolated = true;
        StringPart p;
        p.pos = t.pos;
        p.expr = parse_expr();
        expect(Tok::RBrace, "'}'");
        child(n, p.expr);
        n->parts.push_back(std::move(p));
      } else if (t.kind == Tok::PathEnd) {
        if (!interpolated && pending_str) unexpected(t, "DOLLAR_CURLY");
        take();
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
  Token buf_[3];
  size_t nbuf_ = 0;
  Pos prev_end_{1, 1};
  uint32_t depth_ = 0;
  std::unordered_map<const Node*, std::unique_ptr<DefMap>> set_defs_;
  std::unordered_set<const Node*> plain_strings_;
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
  void visit_path(const AttrPath& path) {
    for (const auto& a : path) visit(a.dynamic);
  }
  static void collect(const std::vector<Binding>& bs, Frame& f) {
    for (const auto& b : bs) {
      if (b.kind == Binding::Kind::Attr) {
        if (b.path.front().is_static()) f.names.push_back(b.path.front().name);
      } else {
        for (const auto& a : b.path) f.names.push_back(a.name);
      }
    }
  }
  // Bindings of a rec set or let: values see the new scope, `inherit x;` the outer one.
  void visit_recursive_bindings(const std::vector<Binding>& bs) {
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
  auto ast = std::make_unique<Ast>();
  ast->set_filename(std::string(filename));
  try {
    Parser parser(source, filename, options, *ast);
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
