#pragma once
// The AST of the Nix language as produced by tsfleet::nix::parse (parser.h).
//
// The tree stays close to the source: attribute sets keep their bindings in source order with the
// attribute path as written (no merging of `a.b = 1; a.c = 2;`), parentheses leave no node, and
// every node carries the position of its first byte. Positions are 1-based; columns count bytes,
// like nix does.
//
// Storage: everything a tree holds (nodes, their lists, names and string literals) lives in the
// arena of the Ast that made it and is freed with it, in a few calls. Lists are std::span and
// texts std::string_view into that arena; pointers and views stay valid as long as the Ast.
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

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

// Nodes are trivially destructible (the arena frees them without running destructors).
struct Node {
  explicit Node(NodeKind k, Pos p) : kind(k), pos(p) {}
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
  std::string_view literal;  // when expr == nullptr
  const Node* expr = nullptr;
  bool is_literal() const noexcept { return expr == nullptr; }
};

struct StringNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::String;
  StringNode(Pos p, bool ind) : Node(static_kind, p), indented(ind) {}
  bool indented;                     // '' ... '' rather than " ... "
  std::span<const StringPart> parts;  // adjacent literals merged, no empty ones; empty for ""
  // The value when the string has no interpolation.
  bool is_constant() const noexcept;
  std::string constant_value() const;
  // The same without a copy (a constant string has at most one part); "" when not constant.
  std::string_view constant_view() const noexcept;
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
  std::span<const StringPart> parts;  // raw text as written; Search: the text between < and >
};

struct UriNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Uri;
  UriNode(Pos p, std::string_view t) : Node(static_kind, p), text(t) {}
  std::string_view text;
};

struct VarNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Var;
  VarNode(Pos p, std::string_view n) : Node(static_kind, p), name(n) {}
  std::string_view name;
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
  std::string_view name;      // when dynamic == nullptr
  const Node* dynamic = nullptr;
  bool is_static() const noexcept { return dynamic == nullptr; }
};
using AttrPath = std::span<const AttrName>;

// `a.b.c` to a string, dynamic elements as `${...}`.
std::string attr_path_to_string(AttrPath path);

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
  std::span<const Binding> bindings;  // source order
};

struct ListNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::List;
  explicit ListNode(Pos p) : Node(static_kind, p) {}
  std::span<const Node* const> elements;
};

struct Formal {
  Pos pos;
  std::string_view name;
  const Node* default_value = nullptr;
};

// `x: body`, `{ a, b ? 1, ... }: body`, `args@{ a, ... }: body`, `{ a }@args: body`
struct LambdaNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Lambda;
  explicit LambdaNode(Pos p) : Node(static_kind, p) {}
  std::string_view arg;          // empty when there is only a formals pattern
  Pos arg_pos;
  bool has_formals = false;
  bool ellipsis = false;
  std::span<const Formal> formals;  // source order
  const Node* body = nullptr;
};

// `f a b`: one node per application chain, like nix.
struct CallNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Call;
  explicit CallNode(Pos p) : Node(static_kind, p) {}
  const Node* function = nullptr;
  std::span<const Node* const> args;
};

struct LetNode final : Node {
  static constexpr NodeKind static_kind = NodeKind::Let;
  explicit LetNode(Pos p) : Node(static_kind, p) {}
  std::span<const Binding> bindings;
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

// Bump allocation for one Ast: memory comes from a few large blocks, freed together.
class Arena {
 public:
  // first_block: the size of the first block (later ones double, up to a limit).
  explicit Arena(size_t first_block = 4096) noexcept : next_block_(first_block) {}
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  void* allocate(size_t size, size_t align) {
    uintptr_t p = (cur_ + (align - 1)) & ~static_cast<uintptr_t>(align - 1);
    if (p + size > end_ || p < cur_) return allocate_slow(size, align);
    cur_ = p + size;
    return reinterpret_cast<void*>(p);
  }
  // Copies of text and of arrays of trivially copyable values, owned by the arena.
  std::string_view copy(std::string_view text);
  template <class T>
  std::span<const T> copy(const T* items, size_t count) {
    static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);
    if (count == 0) return {};
    void* p = allocate(sizeof(T) * count, alignof(T));
    T* out = static_cast<T*>(p);
    for (size_t i = 0; i < count; ++i) new (out + i) T(items[i]);
    return {out, count};
  }
  // Bytes in the blocks allocated so far, and of them those not handed out (yet) in the last one.
  size_t capacity() const noexcept { return capacity_; }
  size_t available() const noexcept { return end_ - cur_; }

 private:
  void* allocate_slow(size_t size, size_t align);
  struct Block {
    Block* next;
  };
  uintptr_t cur_ = 0;
  uintptr_t end_ = 0;
  Block* blocks_ = nullptr;
  size_t next_block_;
  size_t capacity_ = 0;
};

// A parsed file: the root expression and the storage of every node.
class Ast {
 public:
  // size_hint: about how many bytes the tree will take (sizes the arena's first block).
  explicit Ast(size_t size_hint = 0) noexcept;
  Ast(const Ast&) = delete;
  Ast& operator=(const Ast&) = delete;

  const Node& root() const noexcept { return *root_; }
  std::string_view filename() const noexcept { return filename_; }
  size_t node_count() const noexcept { return node_count_; }

  // Used by the parser.
  template <class T, class... Args>
  T* make(Args&&... args) {
    static_assert(std::is_trivially_destructible_v<T>, "the arena runs no destructors");
    ++node_count_;
    return new (arena_.allocate(sizeof(T), alignof(T))) T(std::forward<Args>(args)...);
  }
  Arena& arena() noexcept { return arena_; }
  void set_root(const Node* root) noexcept { root_ = root; }
  void set_filename(std::string_view filename) { filename_ = arena_.copy(filename); }

 private:
  Arena arena_;
  const Node* root_ = nullptr;
  std::string_view filename_;
  size_t node_count_ = 0;
};

// Prints the expression in a normalized, fully parenthesized form close to
// `nix-instantiate --parse` (attribute sets keep source order; paths are not made absolute;
// interpolated strings print as "a${b}"). Never throws on a tree made by parse().
std::string to_string(const Node& node);
// The first max_size bytes of to_string(node) (all of it when shorter), without printing the
// rest: for previews of large expressions.
std::string to_string_prefix(const Node& node, size_t max_size);

}  // namespace tsfleet::nix
