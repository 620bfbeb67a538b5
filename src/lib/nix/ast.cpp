#include "tsfleet/nix/ast.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace tsfleet::nix {

std::string_view kind_name(NodeKind kind) noexcept {
  switch (kind) {
    case NodeKind::Int: return "Int";
    case NodeKind::Float: return "Float";
    case NodeKind::String: return "String";
    case NodeKind::Path: return "Path";
    case NodeKind::Uri: return "Uri";
    case NodeKind::Var: return "Var";
    case NodeKind::CurPos: return "CurPos";
    case NodeKind::Select: return "Select";
    case NodeKind::HasAttr: return "HasAttr";
    case NodeKind::AttrSet: return "AttrSet";
    case NodeKind::List: return "List";
    case NodeKind::Lambda: return "Lambda";
    case NodeKind::Call: return "Call";
    case NodeKind::Let: return "Let";
    case NodeKind::With: return "With";
    case NodeKind::Assert: return "Assert";
    case NodeKind::If: return "If";
    case NodeKind::UnaryOp: return "UnaryOp";
    case NodeKind::BinaryOp: return "BinaryOp";
  }
  return "?";
}

std::string_view operator_text(BinaryOperator op) noexcept {
  switch (op) {
    case BinaryOperator::Concat: return "++";
    case BinaryOperator::Mul: return "*";
    case BinaryOperator::Div: return "/";
    case BinaryOperator::Add: return "+";
    case BinaryOperator::Sub: return "-";
    case BinaryOperator::Update: return "//";
    case BinaryOperator::Lt: return "<";
    case BinaryOperator::Le: return "<=";
    case BinaryOperator::Gt: return ">";
    case BinaryOperator::Ge: return ">=";
    case BinaryOperator::Eq: return "==";
    case BinaryOperator::Ne: return "!=";
    case BinaryOperator::And: return "&&";
    case BinaryOperator::Or: return "||";
    case BinaryOperator::Impl: return "->";
  }
  return "?";
}

Arena::~Arena() {
  while (blocks_) {
    Block* next = blocks_->next;
    std::free(blocks_);
    blocks_ = next;
  }
}

void* Arena::allocate_slow(size_t size, size_t align) {
  constexpr size_t kMaxBlock = size_t{1} << 20;
  size_t need = sizeof(Block) + size + align;
  size_t bytes = std::max(next_block_, need);
  auto* block = static_cast<Block*>(std::malloc(bytes));
  if (!block) throw std::bad_alloc();
  block->next = blocks_;
  blocks_ = block;
  capacity_ += bytes;
  next_block_ = std::min(std::max(next_block_ * 2, size_t{4096}), kMaxBlock);
  cur_ = reinterpret_cast<uintptr_t>(block) + sizeof(Block);
  end_ = reinterpret_cast<uintptr_t>(block) + bytes;
  return allocate(size, align);
}

std::string_view Arena::copy(std::string_view text) {
  if (text.empty()) return {};
  char* p = static_cast<char*>(allocate(text.size(), 1));
  std::memcpy(p, text.data(), text.size());
  return {p, text.size()};
}

namespace {
// The first block holds a typical file's whole tree: its nodes, lists and decoded texts take
// about 3-4 bytes per source byte (and the copy of the source, when there is one, one more).
size_t first_block_size(size_t bytes) { return std::clamp(bytes + 512, size_t{2048}, size_t{128} << 10); }
}  // namespace

Ast::Ast(size_t size_hint) noexcept : arena_(first_block_size(size_hint)) {}

bool StringNode::is_constant() const noexcept {
  for (const auto& p : parts)
    if (!p.is_literal()) return false;
  return true;
}

std::string StringNode::constant_value() const {
  std::string out;
  for (const auto& p : parts)
    if (p.is_literal()) out += p.literal;
  return out;
}

std::string_view StringNode::constant_view() const noexcept {
  if (parts.size() != 1 || !parts[0].is_literal()) return {};
  return parts[0].literal;
}

namespace {

bool is_plain_identifier(std::string_view s) {
  if (s.empty()) return false;
  char c = s[0];
  if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_')) return false;
  for (char d : s)
    if (!((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9') || d == '_' ||
          d == '\'' || d == '-'))
      return false;
  return s != "if";  // like nix's printIdentifier, which quotes only this keyword
}

void quote(std::string& out, std::string_view s) {
  out += '"';
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '$': out += "\\$"; break;  // like nix 2.8's showString
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default: out += c; break;
    }
  }
  out += '"';
}

class Printer {
 public:
  std::string out;
  // Printing stops (children print nothing more) once out has this many bytes: what is there by
  // then is exact, what comes after is cut off by the caller.
  size_t limit = SIZE_MAX;

  void attr(const AttrName& a) {
    if (a.is_static()) {
      if (is_plain_identifier(a.name)) out += a.name;
      else quote(out, a.name);
    } else {
      out += "${";
      print(*a.dynamic);
      out += "}";
    }
  }
  void path(const AttrPath& p) {
    for (size_t i = 0; i < p.size(); ++i) {
      if (i) out += '.';
      attr(p[i]);
    }
  }
  void bindings(std::span<const Binding> bs) {
    for (const auto& b : bs) {
      if (b.kind == Binding::Kind::Inherit) {
        out += "inherit ";
        if (b.from) {
          out += "(";
          print(*b.from);
          out += ") ";
        }
        for (const auto& a : b.path) {
          attr(a);
          out += ' ';
        }
        out += "; ";
      } else {
        path(b.path);
        out += " = ";
        print(*b.value);
        out += "; ";
      }
    }
  }
  void parts(std::span<const StringPart> ps, bool escape) {
    for (const auto& p : ps) {
      if (p.is_literal()) {
        if (escape) {
          std::string q;
          quote(q, p.literal);
          out.append(q, 1, q.size() - 2);
        } else {
          out += p.literal;
        }
      } else {
        out += "${";
        print(*p.expr);
        out += "}";
      }
    }
  }

  void print(const Node& n) {
    if (out.size() >= limit) return;
    switch (n.kind) {
      case NodeKind::Int:
        out += std::to_string(static_cast<const IntNode&>(n).value);
        return;
      case NodeKind::Float: {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%g", static_cast<const FloatNode&>(n).value);
        out += buf;
        return;
      }
      case NodeKind::String:
        out += '"';
        parts(static_cast<const StringNode&>(n).parts, true);
        out += '"';
        return;
      case NodeKind::Path: {
        auto& p = static_cast<const PathNode&>(n);
        if (p.path_kind == PathKind::Search) out += '<';
        parts(p.parts, false);
        if (p.path_kind == PathKind::Search) out += '>';
        return;
      }
      case NodeKind::Uri:
        quote(out, static_cast<const UriNode&>(n).text);
        return;
      case NodeKind::Var:
        out += static_cast<const VarNode&>(n).name;
        return;
      case NodeKind::CurPos:
        out += "__curPos";
        return;
      case NodeKind::Select: {
        auto& s = static_cast<const SelectNode&>(n);
        out += '(';
        print(*s.expr);
        out += ").";
        path(s.path);
        if (s.default_value) {
          out += " or (";
          print(*s.default_value);
          out += ')';
        }
        return;
      }
      case NodeKind::HasAttr: {
        auto& s = static_cast<const HasAttrNode&>(n);
        out += "((";
        print(*s.expr);
        out += ") ? ";
        path(s.path);
        out += ')';
        return;
      }
      case NodeKind::AttrSet: {
        auto& s = static_cast<const AttrSetNode&>(n);
        if (s.let_block) out += "let ";
        else if (s.recursive) out += "rec ";
        out += "{ ";
        bindings(s.bindings);
        out += '}';
        return;
      }
      case NodeKind::List: {
        out += "[ ";
        for (auto* e : static_cast<const ListNode&>(n).elements) {
          out += '(';
          print(*e);
          out += ") ";
        }
        out += ']';
        return;
      }
      case NodeKind::Lambda: {
        auto& l = static_cast<const LambdaNode&>(n);
        out += '(';
        if (l.has_formals) {
          out += "{ ";
          for (size_t i = 0; i < l.formals.size(); ++i) {
            if (i) out += ", ";
            out += l.formals[i].name;
            if (l.formals[i].default_value) {
              out += " ? ";
              print(*l.formals[i].default_value);
            }
          }
          if (l.ellipsis) out += l.formals.empty() ? "..." : ", ...";
          out += " }";
          if (!l.arg.empty()) {
            out += " @ ";
            out += l.arg;
          }
        } else {
          out += l.arg;
        }
        out += ": ";
        print(*l.body);
        out += ')';
        return;
      }
      case NodeKind::Call: {
        auto& c = static_cast<const CallNode&>(n);
        out += '(';
        print(*c.function);
        for (auto* a : c.args) {
          out += ' ';
          print(*a);
        }
        out += ')';
        return;
      }
      case NodeKind::Let: {
        auto& l = static_cast<const LetNode&>(n);
        out += "(let ";
        bindings(l.bindings);
        out += "in ";
        print(*l.body);
        out += ')';
        return;
      }
      case NodeKind::With: {
        auto& w = static_cast<const WithNode&>(n);
        out += "(with ";
        print(*w.scope);
        out += "; ";
        print(*w.body);
        out += ')';
        return;
      }
      case NodeKind::Assert: {
        auto& a = static_cast<const AssertNode&>(n);
        out += "(assert ";
        print(*a.condition);
        out += "; ";
        print(*a.body);
        out += ')';
        return;
      }
      case NodeKind::If: {
        auto& i = static_cast<const IfNode&>(n);
        out += "(if ";
        print(*i.condition);
        out += " then ";
        print(*i.then_branch);
        out += " else ";
        print(*i.else_branch);
        out += ')';
        return;
      }
      case NodeKind::UnaryOp: {
        auto& u = static_cast<const UnaryOpNode&>(n);
        out += u.op == UnaryOperator::Not ? "(! " : "(- ";
        print(*u.operand);
        out += ')';
        return;
      }
      case NodeKind::BinaryOp: {
        auto& b = static_cast<const BinaryOpNode&>(n);
        out += '(';
        print(*b.lhs);
        out += ' ';
        out += operator_text(b.op);
        out += ' ';
        print(*b.rhs);
        out += ')';
        return;
      }
    }
  }
};

}  // namespace

std::string attr_path_to_string(AttrPath path) {
  Printer p;
  p.path(path);
  return p.out;
}

std::string to_string(const Node& node) {
  Printer p;
  p.print(node);
  return p.out;
}

std::string to_string_prefix(const Node& node, size_t max_size) {
  Printer p;
  p.limit = max_size;
  p.print(node);
  if (p.out.size() > max_size) p.out.resize(max_size);
  return p.out;
}

}  // namespace tsfleet::nix
