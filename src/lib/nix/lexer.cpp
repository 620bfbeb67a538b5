#include "lexer.h"

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace tsfleet::nix::detail {
namespace {

// Character classes of nix's flex rules, as a table (one load per character in the scanning
// loops instead of a chain of comparisons).
enum CharClass : uint8_t {
  kAlpha = 1,
  kDigit = 2,
  kPathChar = 4,    // [a-zA-Z0-9\.\_\-\+]
  kIdChar = 8,      // [a-zA-Z0-9\_\'\-]
  kSchemeChar = 16, // [a-zA-Z0-9\+\-\.]
  kUriChar = 32,    // [a-zA-Z0-9\%\/\?\:\@\&\=\+\$\,\-\_\.\!\~\*\']
  kSpace = 64,      // [ \t\r\n]
};
constexpr std::array<uint8_t, 256> kClasses = [] {
  std::array<uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool digit = c >= '0' && c <= '9';
    bool alnum = alpha || digit;
    uint8_t v = 0;
    if (alpha) v |= kAlpha;
    if (digit) v |= kDigit;
    if (alnum || c == '.' || c == '_' || c == '-' || c == '+') v |= kPathChar;
    if (alnum || c == '_' || c == '\'' || c == '-') v |= kIdChar;
    if (alnum || c == '+' || c == '-' || c == '.') v |= kSchemeChar;
    if (alnum) v |= kUriChar;
    for (char u : std::string_view("%/?:@&=+$,-_.!~*'"))
      if (c == static_cast<unsigned char>(u)) v |= kUriChar;
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') v |= kSpace;
    t[static_cast<size_t>(c)] = v;
  }
  return t;
}();
bool has(char c, uint8_t cls) { return (kClasses[static_cast<unsigned char>(c)] & cls) != 0; }

bool is_alpha(char c) { return has(c, kAlpha); }
bool is_digit(char c) { return has(c, kDigit); }
bool is_path_char(char c) { return has(c, kPathChar); }
bool is_id_start(char c) { return has(c, kAlpha) || c == '_'; }
bool is_id_char(char c) { return has(c, kIdChar); }
bool is_scheme_char(char c) { return has(c, kSchemeChar); }
bool is_uri_char(char c) { return has(c, kUriChar); }
bool is_space(char c) { return has(c, kSpace); }

Tok keyword(std::string_view s) {
  switch (s.size()) {
    case 2:
      if (s == "if") return Tok::If;
      if (s == "in") return Tok::In;
      if (s == "or") return Tok::OrKw;
      break;
    case 3:
      if (s == "let") return Tok::Let;
      if (s == "rec") return Tok::Rec;
      break;
    case 4:
      if (s == "then") return Tok::Then;
      if (s == "else") return Tok::Else;
      if (s == "with") return Tok::With;
      break;
    case 6:
      if (s == "assert") return Tok::Assert;
      break;
    case 7:
      if (s == "inherit") return Tok::Inherit;
      break;
    default:
      break;
  }
  return Tok::Id;
}

}  // namespace

std::string_view token_display_name(Tok t) noexcept {
  switch (t) {
    case Tok::Eof: return "end of file";
    case Tok::Invalid: return "invalid token";
    case Tok::Error: return "invalid token";
    case Tok::Id: return "ID";
    case Tok::Str: return "STR";
    case Tok::IndStr: return "IND_STR";
    case Tok::Int: return "INT";
    case Tok::Float: return "FLOAT";
    case Tok::Path: return "PATH";
    case Tok::HPath: return "HPATH";
    case Tok::SPath: return "SPATH";
    case Tok::PathEnd: return "PATH_END";
    case Tok::Uri: return "URI";
    case Tok::If: return "IF";
    case Tok::Then: return "THEN";
    case Tok::Else: return "ELSE";
    case Tok::Assert: return "ASSERT";
    case Tok::With: return "WITH";
    case Tok::Let: return "LET";
    case Tok::In: return "IN";
    case Tok::Rec: return "REC";
    case Tok::Inherit: return "INHERIT";
    case Tok::Eq: return "EQ";
    case Tok::Neq: return "NEQ";
    case Tok::Leq: return "LEQ";
    case Tok::Geq: return "GEQ";
    case Tok::And: return "AND";
    case Tok::Or: return "OR";
    case Tok::Impl: return "IMPL";
    case Tok::Update: return "UPDATE";
    case Tok::Concat: return "CONCAT";
    case Tok::OrKw: return "OR_KW";
    case Tok::DollarCurly: return "DOLLAR_CURLY";
    case Tok::IndStringOpen: return "IND_STRING_OPEN";
    case Tok::IndStringClose: return "IND_STRING_CLOSE";
    case Tok::Ellipsis: return "ELLIPSIS";
    case Tok::Colon: return "':'";
    case Tok::LBrace: return "'{'";
    case Tok::RBrace: return "'}'";
    case Tok::At: return "'@'";
    case Tok::Semi: return "';'";
    case Tok::Bang: return "'!'";
    case Tok::Dot: return "'.'";
    case Tok::Quote: return "'\"'";
    case Tok::LParen: return "'('";
    case Tok::RParen: return "')'";
    case Tok::LBracket: return "'['";
    case Tok::RBracket: return "']'";
    case Tok::Assign: return "'='";
    case Tok::Comma: return "','";
    case Tok::Lt: return "'<'";
    case Tok::Gt: return "'>'";
    case Tok::Plus: return "'+'";
    case Tok::Minus: return "'-'";
    case Tok::Star: return "'*'";
    case Tok::Slash: return "'/'";
    case Tok::Question: return "'?'";
  }
  return "invalid token";
}

void unescape_string(std::string_view raw, std::string& out) {
  for (size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\0') break;  // nix's unescapeStr stops at a NUL byte
    if (c == '\\' && i + 1 < raw.size()) {
      c = raw[++i];
      if (c == 'n') out += '\n';
      else if (c == 'r') out += '\r';
      else if (c == 't') out += '\t';
      else out += c;
    } else if (c == '\r') {
      out += '\n';
      if (i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
    } else {
      out += c;
    }
  }
}

Lexer::Lexer(std::string_view src, std::vector<uint8_t>& stack) : src_(src), stack_(stack) {
  stack_.clear();
  stack_.push_back(Initial);
}

// Positions are kept in locals and stored whole: updating a member field by field and reading
// it back as one Pos stalls store forwarding (this is the lexer's hottest path).
LexPos Lexer::consume(size_t n) {
  const LexPos start = cur_;
  prev_lexeme_ = last_lexeme_;
  last_lexeme_ = start;
  uint32_t line = start.line(), col = start.col();
  const char* s = src_.data();
  size_t i = i_;
  const size_t end = i + n;
  for (; i < end; ++i) {
    char c = s[i];
    if (c == '\n') {
      ++line;
      col = 1;
    } else if (c == '\r') {
      if (i + 1 < end && s[i + 1] == '\n') ++i;
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  i_ = i;
  cur_ = LexPos::of(line, col);
  return start;
}

void Lexer::make(Tok kind, size_t len) {
  Token& t = *t_;
  t.kind = kind;
  t.text = std::string_view(src_.data() + i_, len);
  if (kind == Tok::Str || kind == Tok::IndStr || kind == Tok::IndStringOpen) {
    t.pos = consume(len).pos();
    t.end = cur_.pos();
  } else {
    // No other token holds a line break: only the column moves.
    const LexPos start = cur_;
    const LexPos end = start.advanced(len);
    prev_lexeme_ = last_lexeme_;
    last_lexeme_ = start;
    i_ += len;
    cur_ = end;
    t.pos = start.pos();
    t.end = end.pos();
  }
}

void Lexer::eof_token() {
  Token& t = *t_;
  t.kind = Tok::Eof;
  t.text = {};
  t.pos = last_lexeme_.pos();
  t.end = last_lexeme_.pos();
}

size_t Lexer::path_chars(size_t i) const {
  // Inside the run found last, the run goes on to its end: `a.b.c.d` is scanned once, not once
  // per token (which made long dotted paths quadratic).
  if (i >= run_start_ && i <= run_end_) return run_end_ - i;
  size_t j = i;
  while (j < src_.size() && is_path_char(src_[j])) ++j;
  run_start_ = i;
  run_end_ = j;
  return j - i;
}

// {PATH_CHAR}*(\/{PATH_CHAR}+)+\/?
size_t Lexer::match_path(size_t i) const {
  size_t j = i + path_chars(i);
  int segments = 0;
  while (at(j) == '/' && is_path_char(at(j + 1))) {
    j += 1 + path_chars(j + 1);
    ++segments;
  }
  if (segments == 0) return 0;
  if (at(j) == '/') ++j;
  return j - i;
}

void Lexer::next(Token& out) {
  t_ = &out;
  switch (state()) {
    case Initial:
    case Default:
      return lex_default();
    case String:
      return lex_string();
    case IndString:
      return lex_ind_string();
    case InPath:
    case InPathSlash:
      return lex_in_path();
  }
  return eof_token();
}

void Lexer::lex_default() {
  // Whitespace and comments.
  for (;;) {
    if (eof()) return eof_token();
    char c = src_[i_];
    if (is_space(c)) {
      // One lexeme; positions counted while scanning (like consume(): CRLF is one line break).
      prev_lexeme_ = last_lexeme_;
      last_lexeme_ = cur_;
      const size_t n = src_.size();
      size_t j = i_;
      uint32_t line = cur_.line(), col = cur_.col();
      for (; j < n; ++j) {
        char d = src_[j];
        if (d == ' ' || d == '\t') {
          ++col;
        } else if (d == '\n') {
          ++line;
          col = 1;
        } else if (d == '\r') {
          if (j + 1 < n && src_[j + 1] == '\n') ++j;
          ++line;
          col = 1;
        } else {
          break;
        }
      }
      i_ = j;
      cur_ = LexPos::of(line, col);
      continue;
    }
    if (c == '#') {
      // No line break inside: only the column moves.
      size_t j = i_;
      while (j < src_.size() && src_[j] != '\n' && src_[j] != '\r') ++j;
      const LexPos start = cur_;
      prev_lexeme_ = last_lexeme_;
      last_lexeme_ = start;
      cur_ = start.advanced(j - i_);
      i_ = j;
      continue;
    }
    if (c == '/' && at(i_ + 1) == '*') {
      // \/\*([^*]|\*+[^*/])*\*+\/  ==  the first "*/" after "/*"
      size_t close = src_.find("*/", i_ + 2);
      if (close != std::string_view::npos) {
        consume(close + 2 - i_);
        continue;
      }
    }
    break;
  }

  const size_t i = i_;
  const char c = src_[i];
  const char c1 = at(i + 1);

  // Fast paths for what modules are mostly made of; each gives what the rules below would.
  switch (c) {
    // No rule matches more than one byte at these (none is a path, URI or number character).
    case ';': return make(Tok::Semi, 1);
    case ':': return make(Tok::Colon, 1);
    case ',': return make(Tok::Comma, 1);
    case '(': return make(Tok::LParen, 1);
    case ')': return make(Tok::RParen, 1);
    case '[': return make(Tok::LBracket, 1);
    case ']': return make(Tok::RBracket, 1);
    case '@': return make(Tok::At, 1);
    case '?': return make(Tok::Question, 1);
    case '=': return c1 == '=' ? make(Tok::Eq, 2) : make(Tok::Assign, 1);
    case '{':
      make(Tok::LBrace, 1);
      return push(Default);
    case '}':
      make(Tok::RBrace, 1);
      return pop();
    case '"':
      make(Tok::Quote, 1);
      return push(String);
    case '.': {
      // Not "...", not a float (.5), not a path (./a, ../a, .a/b): a dot.
      if (c1 == '.' && at(i + 2) == '.') break;
      if (is_digit(c1)) break;
      if (at(i + path_chars(i)) == '/') break;
      return make(Tok::Dot, 1);
    }
    default:
      if (is_id_start(c)) {
        // An identifier or keyword, unless its leading path characters run into a '/' (a path)
        // or a ':' (maybe a URI): only those rules can match longer here.
        const char after = at(i + path_chars(i));
        if (after == '/' || after == ':') break;
        size_t j = i + 1;
        while (j < src_.size() && is_id_char(src_[j])) ++j;
        return make(keyword(src_.substr(i, j - i)), j - i);
      }
      break;
  }

  // Candidates in flex rule order; a later rule wins only with a strictly longer match.
  Tok kind = Tok::Invalid;
  size_t len = 0;
  enum class Special : uint8_t { None, PathStart, HPathStart, PathTok, HPathTok } special =
      Special::None;
  auto offer = [&](Tok k, size_t l, Special s = Special::None) {
    if (l > len) {
      kind = k;
      len = l;
      special = s;
    }
  };

  // Single-character tokens (the {ANY} rule, lowest priority but length 1).
  switch (c) {
    case ':': kind = Tok::Colon; break;
    case '@': kind = Tok::At; break;
    case ';': kind = Tok::Semi; break;
    case '!': kind = Tok::Bang; break;
    case '.': kind = Tok::Dot; break;
    case '(': kind = Tok::LParen; break;
    case ')': kind = Tok::RParen; break;
    case '[': kind = Tok::LBracket; break;
    case ']': kind = Tok::RBracket; break;
    case '=': kind = Tok::Assign; break;
    case ',': kind = Tok::Comma; break;
    case '<': kind = Tok::Lt; break;
    case '>': kind = Tok::Gt; break;
    case '+': kind = Tok::Plus; break;
    case '-': kind = Tok::Minus; break;
    case '*': kind = Tok::Star; break;
    case '/': kind = Tok::Slash; break;
    case '?': kind = Tok::Question; break;
    case '{': kind = Tok::LBrace; break;
    case '}': kind = Tok::RBrace; break;
    case '"': kind = Tok::Quote; break;
    case '\0': kind = Tok::Eof; break;  // flex returns 0 for a NUL byte: end of input
    default: kind = Tok::Invalid; break;
  }
  const Tok single = kind;  // used when no other rule matches
  kind = Tok::Invalid;
  len = 0;
  if (c == '.' && c1 == '.' && at(i + 2) == '.') offer(Tok::Ellipsis, 3);
  if (c1 != '\0') {
    switch (c) {
      case '=': if (c1 == '=') offer(Tok::Eq, 2); break;
      case '!': if (c1 == '=') offer(Tok::Neq, 2); break;
      case '<': if (c1 == '=') offer(Tok::Leq, 2); break;
      case '>': if (c1 == '=') offer(Tok::Geq, 2); break;
      case '&': if (c1 == '&') offer(Tok::And, 2); break;
      case '|': if (c1 == '|') offer(Tok::Or, 2); break;
      case '-': if (c1 == '>') offer(Tok::Impl, 2); break;
      case '/': if (c1 == '/') offer(Tok::Update, 2); break;
      case '+': if (c1 == '+') offer(Tok::Concat, 2); break;
      default: break;
    }
  }
  if (is_id_start(c)) {
    size_t j = i + 1;
    while (j < src_.size() && is_id_char(src_[j])) ++j;
    offer(keyword(src_.substr(i, j - i)), j - i);
  }
  if (is_digit(c)) {
    size_t j = i;
    while (j < src_.size() && is_digit(src_[j])) ++j;
    offer(Tok::Int, j - i);
  }
  {
    // (([1-9][0-9]*\.[0-9]*)|(0?\.[0-9]+))([Ee][+-]?[0-9]+)?
    size_t j = 0;
    if (c >= '1' && c <= '9') {
      size_t k = i;
      while (is_digit(at(k))) ++k;
      if (at(k) == '.') {
        ++k;
        while (is_digit(at(k))) ++k;
        j = k;
      }
    } else {
      size_t k = i;
      if (c == '0') ++k;
      if (at(k) == '.' && is_digit(at(k + 1))) {
        k += 1;
        while (is_digit(at(k))) ++k;
        j = k;
      }
    }
    if (j != 0) {
      if (at(j) == 'e' || at(j) == 'E') {
        size_t k = j + 1;
        if (at(k) == '+' || at(k) == '-') ++k;
        if (is_digit(at(k))) {
          while (is_digit(at(k))) ++k;
          j = k;
        }
      }
      offer(Tok::Float, j - i);
    }
  }
  if (c == '$' && c1 == '{') offer(Tok::DollarCurly, 2);
  if (single == Tok::RBrace || single == Tok::LBrace || single == Tok::Quote) offer(single, 1);
  if (c == '\'' && c1 == '\'') {
    size_t k = i + 2;
    while (at(k) == ' ') ++k;
    offer(Tok::IndStringOpen, at(k) == '\n' ? k + 1 - i : 2);
  }
  // Every PATH needs a '/' right after its leading path characters, every URI a ':' (its scheme
  // characters are path characters, and a path character that is not one is not ':').
  const size_t pc = path_chars(i);
  const char after_pc = at(i + pc);
  {
    // {PATH_SEG}\$\{ and {HPATH_START}\$\{ (re-lexed in PATH_START)
    size_t k = i + pc;
    if (after_pc == '/' && at(k + 1) == '$' && at(k + 2) == '{') offer(Tok::Path, k + 3 - i, Special::PathStart);
    if (c == '~' && c1 == '/' && at(i + 2) == '$' && at(i + 3) == '{') offer(Tok::HPath, 4, Special::HPathStart);
  }
  if (after_pc == '/') {
    if (size_t l = match_path(i); l) offer(Tok::Path, l, Special::PathTok);
  }
  if (c == '~') {
    size_t l = match_path(i + 1);
    // HPATH = \~(\/{PATH_CHAR}+)+\/? : the part after ~ must start with '/'
    if (l && c1 == '/') offer(Tok::HPath, l + 1, Special::HPathTok);
  }
  if (c == '<' && is_path_char(c1)) {
    size_t k = i + 1 + path_chars(i + 1);
    while (at(k) == '/' && is_path_char(at(k + 1))) k += 1 + path_chars(k + 1);
    if (at(k) == '>') offer(Tok::SPath, k + 1 - i);
  }
  if (is_alpha(c) && after_pc == ':') {
    size_t k = i + 1;
    while (is_scheme_char(at(k))) ++k;
    if (at(k) == ':' && is_uri_char(at(k + 1))) {
      ++k;
      while (k < src_.size() && is_uri_char(src_[k])) ++k;
      offer(Tok::Uri, k - i);
    }
  }
  if (len == 0) {
    kind = single;
    len = 1;
  }

  if (kind == Tok::Eof) {  // NUL byte
    make(Tok::Eof, 1);
    i_ = src_.size();  // everything after is ignored
    return;
  }

  if (special == Special::PathStart || special == Special::HPathStart) {
    // PATH_START: return just the first segment ("a/", "./", "/", "~/") and expect ${ next.
    size_t seg = special == Special::HPathStart ? 2 : path_chars(i) + 1;
    make(special == Special::HPathStart ? Tok::HPath : Tok::Path, seg);
    push(InPathSlash);
    return;
  }
  make(kind, len);
  Token& t = *t_;
  switch (kind) {
    case Tok::Path:
    case Tok::HPath:
      push(t.text.back() == '/' ? InPathSlash : InPath);
      break;
    case Tok::DollarCurly:
    case Tok::LBrace:
      push(Default);
      break;
    case Tok::RBrace:
      pop();
      break;
    case Tok::Quote:
      push(String);
      break;
    case Tok::IndStringOpen:
      push(IndString);
      break;
    case Tok::Int: {
      // boost::lexical_cast<int64_t>: digits only, must fit.
      uint64_t v = 0;
      bool overflow = false;
      for (char d : t.text) {
        uint64_t digit = static_cast<uint64_t>(d - '0');
        if (v > (static_cast<uint64_t>(INT64_MAX) - digit) / 10) {
          overflow = true;
          break;
        }
        v = v * 10 + digit;
      }
      if (overflow) {
        t.kind = Tok::Error;
        t.error = "invalid integer";
      } else {
        t.int_value = static_cast<int64_t>(v);
      }
      break;
    }
    case Tok::Float: {
      char buf[128];
      std::string copy;
      const char* p;
      if (t.text.size() < sizeof buf) {
        std::memcpy(buf, t.text.data(), t.text.size());
        buf[t.text.size()] = '\0';
        p = buf;
      } else {
        copy.assign(t.text);
        p = copy.c_str();
      }
      errno = 0;
      t.float_value = std::strtod(p, nullptr);
      if (errno != 0) {
        t.kind = Tok::Error;
        t.error = "invalid float";
      }
      break;
    }
    default:
      break;
  }
  return;
}

void Lexer::lex_string() {
  if (eof()) return eof_token();
  const size_t i = i_;
  size_t j = i;
  // ([^\$\"\\]|\$[^\{\"\\]|\\{ANY}|\$\\{ANY})+  (and the same ending in $ before ")
  while (j < src_.size()) {
    char c = src_[j];
    if (c == '"') break;
    if (c == '\\') {
      if (j + 1 >= src_.size()) break;
      j += 2;
      continue;
    }
    if (c == '$') {
      char d = at(j + 1);
      if (j + 1 >= src_.size() || d == '{') break;
      if (d == '"') {
        ++j;  // a '$' right before the closing quote is part of the string
        break;
      }
      if (d == '\\') {
        if (j + 2 >= src_.size()) break;
        j += 3;
        continue;
      }
      j += 2;
      continue;
    }
    ++j;
  }
  if (j > i) return make(Tok::Str, j - i);
  char c = src_[i];
  if (c == '"') {
    make(Tok::Quote, 1);
    pop();
    return;
  }
  if (c == '$' && at(i + 1) == '{') {
    make(Tok::DollarCurly, 2);
    push(Default);
    return;
  }
  // A lone '$', '\' or '$\' at the end of input: nix 2.8 returns it as a second STR token (which
  // the grammar rejects).
  return make(Tok::Str, src_.size() - i);
}

void Lexer::lex_ind_string() {
  if (eof()) return eof_token();
  const size_t i = i_;
  size_t j = i;
  // ([^\$\']|\$[^\{\']|\'[^\'\$])+
  while (j < src_.size()) {
    char c = src_[j];
    if (c == '$') {
      if (j + 1 >= src_.size()) break;
      char d = src_[j + 1];
      if (d == '{' || d == '\'') break;
      j += 2;
    } else if (c == '\'') {
      if (j + 1 >= src_.size()) break;
      char d = src_[j + 1];
      if (d == '\'' || d == '$') break;
      j += 2;
    } else {
      ++j;
    }
  }
  if (j > i) {
    make(Tok::IndStr, j - i);
    Token& t = *t_;
    t.ind = IndKind::Raw;
    t.value = t.text;
    return;
  }
  char c = src_[i];
  char c1 = at(i + 1);
  char c2 = at(i + 2);
  if (c == '\'' && c1 == '\'') {
    if (c2 == '$') {
      make(Tok::IndStr, 3);
    Token& t = *t_;
      t.ind = IndKind::Literal;
      t.value = "$";
      return;
    }
    if (c2 == '\'') {
      make(Tok::IndStr, 3);
    Token& t = *t_;
      t.ind = IndKind::Literal;
      t.value = "''";
      return;
    }
    if (c2 == '\\' && i + 3 < src_.size()) {
      make(Tok::IndStr, 4);
    Token& t = *t_;
      t.ind = IndKind::Escape;
      t.value = t.text.substr(2);
      return;
    }
    make(Tok::IndStringClose, 2);
    pop();
    return;
  }
  if (c == '$' && c1 == '{') {
    make(Tok::DollarCurly, 2);
    push(Default);
    return;
  }
  make(Tok::IndStr, 1);
    Token& t = *t_;  // a lone '$' or '\''
  t.ind = IndKind::Literal;
  t.value = c == '$' ? "$" : "'";
  return;
}

void Lexer::lex_in_path() {
  const size_t i = i_;
  if (at(i) == '$' && at(i + 1) == '{' && i + 1 < src_.size()) {
    make(Tok::DollarCurly, 2);
    pop();
    push(InPath);
    push(Default);
    return;
  }
  // {PATH}|{PATH_SEG}|{PATH_CHAR}+
  size_t len = match_path(i);
  size_t pc = path_chars(i);
  if (at(i + pc) == '/' && i + pc < src_.size() && pc + 1 > len) len = pc + 1;
  if (pc > len) len = pc;
  if (len > 0) {
    make(Tok::Str, len);
    Token& t = *t_;
    pop();
    push(t.text.back() == '/' ? InPathSlash : InPath);
    return;
  }
  if (state() == InPathSlash) {
    Token& t = *t_;
    t.kind = Tok::Error;
    t.text = {};
    t.error = "path has a trailing slash";
    t.pos = eof() ? last_lexeme_.pos() : cur_.pos();
    t.end = t.pos;
    return;
  }
  // nix re-scans the character after the path and restores the location of the previous token:
  // PATH_END is reported at the last path piece; at end of input one token earlier (and so is
  // the end of file that follows).
  pop();
  Token& t = *t_;
  t.kind = Tok::PathEnd;
  t.text = {};
  if (eof()) last_lexeme_ = prev_lexeme_;
  t.pos = last_lexeme_.pos();
  t.end = cur_.pos();
  return;
}

}  // namespace tsfleet::nix::detail
