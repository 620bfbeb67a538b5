#pragma once
// The AST of the Nix language as produced by tsfleet::nix::parse (parser.h).
//
// The tree stays close to the source: attribute sets keep their bindings in source order with the
// attribute path as written (no merging of `a.b = 1; a.c = 2;`), parentheses leave no node, and
// every node carries the position of its first byte. Positions are 1-based; columns count bytes,
// like nix does. Nodes are owned by the Ast that holds them; pointers stay valid as long as it.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet::nix {

struct Pos {
  uint32_t line = 0;
  uint32_t col = 0;
  friend bool operator==(const Pos&, const Pos&) = default;
};

enum class NodeKind : uint8_t {
  Int, Float, String, Path, Uri, Var, CurPos, Select, HasAttr, AttrSet, List, Lambda, Call, Let,
  With, Assert, If, UnaryOp, BinaryOp,
};

// The name of a kind, e.g. "AttrSet".
std::string_view kind_name(NodeKind kind) noexcept;

struct Node {
  explicit Node(NodeKind k, Pos p) : kind(k), pos(p) {}
  virtual ~Node() = default;
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  NodeKind kind;
  uint32_t depth = 1;  // 1 + the depth of the deepest child (the parser bounds it)
  Pos pos;

  template <class T>
  const T* as() const noexcept {
    return kind == T::static_kind ? static_cast<const T*>(this) : nullptr;
  }
};

struct IntNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Int;
  IntNode(Pos p, int64_t v) : Node(static_kind, p), value(v) {}
  int64_t value;
};

struct FloatNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Float;
  FloatNode(Pos p, double v) : Node(static_kind, p), value(v) {}
  double value;
};

// One piece of a string or path: literal text (escapes decoded, indentation stripped) or `${expr}`.
struct StringPart {
  Pos pos;
  std::string literal;   // when expr == nullptr
  const Node* expr = nullptr;
  bool is_literal() const noexcept { return expr == nullptr; }
};

struct StringNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::String;
  StringNode(Pos p, bool ind) : Node(static_kind, p), indented(ind) {}
  bool indented;                  // '' ... '' rather than " ... "
  std::vector<StringPart> parts;  // adjacent literals merged; empty for ""
  // The value when the string has no interpolation.
  bool is_constant() const noexcept;
  std::string constant_value() const;
};

enum class PathKind : uint8_t {
  Relative,  // ./a, a/b, ../x
  Absolute,  // /etc/x
  Home,      // ~/x
  Search,    // <nixpkgs/lib>
};

struct PathNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Path;
  PathNode(Pos p, PathKind k) : Node(static_kind, p), path_kind(k) {}
  PathKind path_kind;
  std::vector<StringPart> parts;  // raw text as written; Search: the text between < and >
};

struct UriNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Uri;
  UriNode(Pos p, std::string t) : Node(static_kind, p), text(std::move(t)) {}
  std::string text;
};

struct VarNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Var;
  VarNode(Pos p, std::string n) : Node(static_kind, p), name(std::move(n)) {}
  std::string name;
};

// `__curPos`: evaluates to the position of itself.
struct CurPosNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::CurPos;
  explicit CurPosNode(Pos p) : Node(static_kind, p) {}
};

// One element of an attribute path: `a`, `"a b"` (static: name), `${e}` or `"x${e}"` (dynamic).
// Like nix, `"a"` and `${"a"}` are static names.
struct AttrName {
  Pos pos;
  std::string name;           // when dynamic == nullptr
  const Node* dynamic = nullptr;
  bool is_static() const noexcept { return dynamic == nullptr; }
};
using AttrPath = std::vector<AttrName>;

// `a.b.c` to a string, dynamic elements as `${...}`.
std::string attr_path_to_string(const AttrPath& path);

// `e.a.b` or `e.a.b or default`
struct SelectNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Select;
  explicit SelectNode(Pos p) : Node(static_kind, p) {}
  const Node* expr = nullptr;
  AttrPath path;
  const Node* default_value = nullptr;  // the `or` branch, if any
};

// `e ? a.b`
struct HasAttrNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::HasAttr;
  explicit HasAttrNode(Pos p) : Node(static_kind, p) {}
  const Node* expr = nullptr;
  AttrPath path;
};

// One binding of an attribute set or let: `path = value;` or `inherit (from) names;`.
struct Binding {
  enum class Kind : uint8_t { Attr, Inherit } kind = Kind::Attr;
  Pos pos;                       // of the first path element / of the first inherited name
  AttrPath path;                 // Attr: the attribute path; Inherit: the inherited names
  const Node* value = nullptr;   // Attr only
  const Node* from = nullptr;    // Inherit: the `(expr)` if any
  // Inherit: where nix reports an undefined inherited variable (just after the `{` or `let`
  // that opens the bindings).
  Pos scope_pos;
};

struct AttrSetNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::AttrSet;
  explicit AttrSetNode(Pos p) : Node(static_kind, p) {}
  bool recursive = false;        // rec { } (and let { })
  bool let_block = false;        // the old `let { ...; body = ...; }` syntax (value: its `body`)
  std::vector<Binding> bindings; // source order
};

struct ListNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::List;
  explicit ListNode(Pos p) : Node(static_kind, p) {}
  std::vector<const Node*> elements;
};

struct Formal {
  Pos pos;
  std::string name;
  const Node* default_value = nullptr;
};

// `x: body`, `{ a, b ? 1, ... }: body`, `args@{ a, ... }: body`, `{ a }@args: body`
struct LambdaNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Lambda;
  explicit LambdaNode(Pos p) : Node(static_kind, p) {}
  std::string arg;               // empty when there is only a formals pattern
  Pos arg_pos;
  bool has_formals = false;
  bool ellipsis = false;
  std::vector<Formal> formals;   // source order
  const Node* body = nullptr;
};

// `f a b`: one node per application chain, like nix.
struct CallNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Call;
  explicit CallNode(Pos p) : Node(static_kind, p) {}
  const Node* function = nullptr;
  std::vector<const Node*> args;
};

struct LetNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Let;
  explicit LetNode(Pos p) : Node(static_kind, p) {}
  std::vector<Binding> bindings;
  const Node* body = nullptr;
};

struct WithNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::With;
  explicit WithNode(Pos p) : Node(static_kind, p) {}
  const Node* scope = nullptr;
  const Node* body = nullptr;
};

struct AssertNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Assert;
  explicit AssertNode(Pos p) : Node(static_kind, p) {}
  const Node* condition = nullptr;
  const Node* body = nullptr;
};

struct IfNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::If;
  explicit IfNode(Pos p) : Node(static_kind, p) {}
  const Node* condition = nullptr;
  const Node* then_branch = nullptr;
  const Node* else_branch = nullptr;
};

enum class UnaryOperator : uint8_t { Not, Negate };

struct UnaryOpNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::UnaryOp;
  UnaryOpNode(Pos p, UnaryOperator o) : Node(static_kind, p), op(o) {}
  UnaryOperator op;
  const Node* operand = nullptr;
};

enum class BinaryOperator : uint8_t {
  Concat,   // ++
  Mul, Div, Add, Sub,
  Update,   // //
  Lt, Le, Gt, Ge, Eq, Ne,
  And, Or,
  Impl,     // ->
};

// The operator as written, e.g. "//".
std::string_view operator_text(BinaryOperator op) noexcept;

struct BinaryOpNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::BinaryOp;
  BinaryOpNode(Pos p, BinaryOperator o) : Node(static_kind, p), op(o) {}
  BinaryOperator op;
  Pos op_pos;                    // of the operator token
  const Node* lhs = nullptr;
  const Node* rhs = nullptr;
};

// A parsed file: the root expression and the storage of every node.
class Ast {
 public:
  Ast() = default;
  Ast(const Ast&) = delete;
  Ast& operator=(const Ast&) = delete;

  const Node& root() const noexcept { return *root_; }
  const std::string& filename() const noexcept { return filename_; }
  size_t node_count() const noexcept { return nodes_.size(); }

  // Used by the parser.
  template <class T, class... Args>
  T* make(Args&&... args) {
    auto node = std::make_unique<T>(std::forward<Args>(args)...);
    T* raw = node.get();
    nodes_.push_back(std::move(node));
    return raw;
  }
  void set_root(const Node* root) noexcept { root_ = root; }
  void set_filename(std::string filename) { filename_ = std::move(filename); }

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  const Node* root_ = nullptr;
  std::string filename_;
};

// Prints the expression in a normalized, fully parenthesized form close to
// `nix-instantiate --parse` (attribute sets keep source order; paths are not made absolute;
// interpolated strings print as "a${b}"). Never throws on a tree made by parse().
std::string to_string(const Node& node);

}  // namespace tsfleet::nix
