#pragma once
// The Nix lexer (internal to libtsfleet). It mirrors nix's flex scanner rule for rule: the same
// longest-match choices, the same start-condition stack ({, ${ push; } pops), the same tokens
// (paths are split into PATH/STR/DOLLAR_CURLY/PATH_END), so the parser sees what nix's sees.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/nix/ast.h"

namespace tsfleet::nix::detail {

enum class Tok : uint8_t {
  Eof, Invalid, Error,
  Id, Str, IndStr, Int, Float, Path, HPath, SPath, PathEnd, Uri,
  If, Then, Else, Assert, With, Let, In, Rec, Inherit,
  Eq, Neq, Leq, Geq, And, Or, Impl, Update, Concat, OrKw,
  DollarCurly, IndStringOpen, IndStringClose, Ellipsis,
  Colon, LBrace, RBrace, At, Semi, Bang, Dot, Quote, LParen, RParen, LBracket, RBracket, Assign,
  Comma, Lt, Gt, Plus, Minus, Star, Slash, Question,
};

// How bison names the token in "unexpected X" (e.g. "ID", "'='", "end of file").
std::string_view token_display_name(Tok t) noexcept;

enum class IndKind : uint8_t {
  Raw,      // text as written; subject to indentation stripping
  Literal,  // `value` is the text ('' $ ''' ')
  Escape,   // ''\x: value is the escape to decode like in "..."
};

struct Token {
  Tok kind = Tok::Eof;
  Pos pos;
  Pos end;                 // position just after the token
  std::string_view text;   // raw text
  std::string_view value;  // IndStr Literal/Escape payload
  IndKind ind = IndKind::Raw;
  int64_t int_value = 0;
  double float_value = 0;
  const char* error = nullptr;  // Tok::Error: the message ("path has a trailing slash", ...)
};

// A position as one 64-bit word (line in the low half, column in the high: the layout of Pos on
// little-endian machines is not assumed, pos() converts), so that the lexer's positions are
// always stored and loaded whole. With Pos members the compiler merges field-wise stores of
// neighbouring members into stores that straddle them, and loading a Pos back then stalls store
// forwarding on every token.
struct LexPos {
  uint64_t v;
  static constexpr LexPos of(uint32_t line, uint32_t col) { return {uint64_t{line} | uint64_t{col} << 32}; }
  constexpr uint32_t line() const { return static_cast<uint32_t>(v); }
  constexpr uint32_t col() const { return static_cast<uint32_t>(v >> 32); }
  constexpr LexPos advanced(size_t columns) const { return {v + (static_cast<uint64_t>(columns) << 32)}; }
  constexpr Pos pos() const { return Pos{line(), col()}; }
};

class Lexer {
 public:
  // `stack` holds the start-condition stack (storage the caller keeps between files).
  Lexer(std::string_view src, std::vector<uint8_t>& stack);
  // Lexes the next token into `out`, setting only what its kind uses (kind, pos, end and text
  // always; value and ind for IndStr; int_value, float_value or error for Int, Float, Error).
  void next(Token& out);

 private:
  enum State : uint8_t { Initial, Default, String, IndString, InPath, InPathSlash };

  State state() const { return static_cast<State>(stack_.back()); }
  void push(State s) { stack_.push_back(s); }
  void pop() {
    if (stack_.size() > 1) stack_.pop_back();
  }
  char at(size_t i) const { return i < src_.size() ? src_[i] : '\0'; }
  bool eof() const { return i_ >= src_.size(); }
  // Consumes n bytes as one lexeme; returns its start position.
  LexPos consume(size_t n);
  void make(Tok kind, size_t len);  // the token (*t_) is the next len bytes
  void eof_token();
  void lex_default();
  void lex_string();
  void lex_ind_string();
  void lex_in_path();

  size_t match_path(size_t i) const;
  size_t path_chars(size_t i) const;  // the length of the run of path characters at i

  std::string_view src_;
  size_t i_ = 0;
  LexPos cur_ = LexPos::of(1, 1);
  LexPos last_lexeme_ = LexPos::of(1, 1);  // start of the last lexeme (nix's location of end of file)
  LexPos prev_lexeme_ = LexPos::of(1, 1);  // start of the one before
  std::vector<uint8_t>& stack_;
  Token* t_ = nullptr;  // the token being lexed
  // The run of path characters path_chars() found last: [run_start_, run_end_).
  mutable size_t run_start_ = 1;
  mutable size_t run_end_ = 0;
};

// Decodes the escapes of a "..." string chunk (\n \r \t \x, CR/CRLF -> LF), appending to out.
void unescape_string(std::string_view raw, std::string& out);

}  // namespace tsfleet::nix::detail
