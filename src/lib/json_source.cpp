#include "tsfleet/json_source.h"

#include <cctype>
#include <charconv>
#include <cstdint>

#include <fmt/format.h>

#include "tsfleet/error.h"

namespace tsfleet {

namespace {

constexpr int kMaxDepth = 256;

bool is_simple_key(const std::string& key) {
  if (key.empty()) return false;
  for (char c : key) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-')) return false;
  }
  return true;
}

class Reader {
 public:
  Reader(std::string_view text, JsonDocument& doc) : text_(text), doc_(doc) {}

  void run() {
    skip_ws();
    doc_.value = parse_value("", 0);
    skip_ws();
    if (i_ < text_.size()) fail("unexpected text after the end of the JSON document");
  }

 private:
  std::string_view text_;
  JsonDocument& doc_;
  size_t i_ = 0;
  int line_ = 1;
  size_t line_start_ = 0;

  SourcePos pos() const { return {line_, static_cast<int>(i_ - line_start_) + 1}; }

  [[noreturn]] void fail(const std::string& what) const { fail_at(pos(), what); }
  [[noreturn]] void fail_at(SourcePos p, const std::string& what) const {
    throw Error(ErrorCategory::input, fmt::format("{}:{}:{}: {}", doc_.filename, p.line, p.col, what));
  }

  void advance() {
    if (text_[i_] == '\n') {
      ++line_;
      line_start_ = i_ + 1;
    }
    ++i_;
  }

  void skip_ws() {
    while (i_ < text_.size()) {
      char c = text_[i_];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r') advance();
      else break;
    }
  }

  std::string describe_here() const {
    if (i_ >= text_.size()) return "the end of the file";
    unsigned char c = static_cast<unsigned char>(text_[i_]);
    if (c < 0x20 || c >= 0x7f) return fmt::format("byte 0x{:02x}", c);
    return fmt::format("'{}'", static_cast<char>(c));
  }

  nlohmann::json parse_value(const std::string& path, int depth) {
    if (depth > kMaxDepth) fail(fmt::format("JSON nested deeper than {} levels", kMaxDepth));
    if (i_ >= text_.size()) fail("unexpected end of file: expected a JSON value");
    SourcePos start = pos();
    auto& place = doc_.places[path];
    place.value = start;
    if (place.key.line == 0) place.key = start;
    char c = text_[i_];
    switch (c) {
      case '{': return parse_object(path, depth);
      case '[': return parse_array(path, depth);
      case '"': return parse_string();
      case 't': return parse_literal("true", true);
      case 'f': return parse_literal("false", false);
      case 'n': return parse_literal("null", nullptr);
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return parse_number();
        fail(fmt::format("unexpected {}: expected a JSON value (object, array, string, number, true, false or null)",
                         describe_here()));
    }
  }

  nlohmann::json parse_literal(std::string_view word, nlohmann::json value) {
    if (text_.substr(i_, word.size()) != word) fail(fmt::format("unexpected {}: expected a JSON value", describe_here()));
    for (size_t k = 0; k < word.size(); ++k) advance();
    return value;
  }

  nlohmann::json parse_number() {
    size_t start = i_;
    SourcePos p = pos();
    if (text_[i_] == '-') advance();
    auto digits = [&] {
      size_t n = 0;
      while (i_ < text_.size() && text_[i_] >= '0' && text_[i_] <= '9') {
        advance();
        ++n;
      }
      return n;
    };
    if (i_ < text_.size() && text_[i_] == '0') {
      advance();
    } else if (digits() == 0) {
      fail_at(p, "invalid number");
    }
    bool is_float = false;
    if (i_ < text_.size() && text_[i_] == '.') {
      is_float = true;
      advance();
      if (digits() == 0) fail_at(p, "invalid number: expected digits after '.'");
    }
    if (i_ < text_.size() && (text_[i_] == 'e' || text_[i_] == 'E')) {
      is_float = true;
      advance();
      if (i_ < text_.size() && (text_[i_] == '+' || text_[i_] == '-')) advance();
      if (digits() == 0) fail_at(p, "invalid number: expected digits in the exponent");
    }
    std::string_view s = text_.substr(start, i_ - start);
    if (!is_float) {
      int64_t v = 0;
      auto r = std::from_chars(s.data(), s.data() + s.size(), v);
      if (r.ec == std::errc() && r.ptr == s.data() + s.size()) return v;
    }
    double d = 0;
    auto r = std::from_chars(s.data(), s.data() + s.size(), d);
    if (r.ec != std::errc()) fail_at(p, "number out of range");
    return d;
  }

  static void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  uint32_t hex4() {
    if (i_ + 4 > text_.size()) fail("invalid \\u escape: expected 4 hex digits");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = text_[i_];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else fail("invalid \\u escape: expected 4 hex digits");
      advance();
    }
    return v;
  }

  std::string parse_string() {
    SourcePos start = pos();
    advance();  // opening quote
    std::string out;
    while (true) {
      if (i_ >= text_.size()) fail_at(start, "unterminated string: add the closing '\"'");
      char c = text_[i_];
      if (c == '"') {
        advance();
        return out;
      }
      if (static_cast<unsigned char>(c) < 0x20) {
        fail(c == '\n' ? "unterminated string: a string cannot span lines (write \\n)"
                       : "control character in a string: escape it");
      }
      if (c != '\\') {
        out += c;
        advance();
        continue;
      }
      advance();
      if (i_ >= text_.size()) fail_at(start, "unterminated string");
      char e = text_[i_];
      advance();
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (text_.substr(i_, 2) != "\\u") fail("invalid \\u escape: lone high surrogate");
            advance();
            advance();
            uint32_t lo = hex4();
            if (lo < 0xdc00 || lo > 0xdfff) fail("invalid \\u escape: bad low surrogate");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            fail("invalid \\u escape: lone low surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: fail(fmt::format("invalid escape '\\{}' in a string", e));
      }
    }
  }

  nlohmann::json parse_object(const std::string& path, int depth) {
    advance();  // {
    nlohmann::json obj = nlohmann::json::object();
    skip_ws();
    if (i_ < text_.size() && text_[i_] == '}') {
      advance();
      return obj;
    }
    while (true) {
      skip_ws();
      if (i_ >= text_.size() || text_[i_] != '"') {
        if (i_ < text_.size() && text_[i_] == '}') fail("trailing comma before '}': remove it");
        fail(fmt::format("unexpected {}: expected a member name in double quotes", describe_here()));
      }
      SourcePos key_pos = pos();
      std::string key = parse_string();
      std::string child = json_path_member(path, key);
      if (obj.contains(key)) {
        SourcePos first = doc_.places[child].key;
        fail_at(key_pos, fmt::format("duplicate key \"{}\" in {} (first defined at line {}, column {}): keep one",
                                     key, path.empty() ? "the document" : path, first.line, first.col));
      }
      doc_.places[child].key = key_pos;
      skip_ws();
      if (i_ >= text_.size() || text_[i_] != ':') fail(fmt::format("unexpected {}: expected ':' after the member name", describe_here()));
      advance();
      skip_ws();
      obj[key] = parse_value(child, depth + 1);
      skip_ws();
      if (i_ < text_.size() && text_[i_] == ',') {
        advance();
        continue;
      }
      if (i_ < text_.size() && text_[i_] == '}') {
        advance();
        return obj;
      }
      fail(fmt::format("unexpected {}: expected ',' or '}}'", describe_here()));
    }
  }

  nlohmann::json parse_array(const std::string& path, int depth) {
    advance();  // [
    nlohmann::json arr = nlohmann::json::array();
    skip_ws();
    if (i_ < text_.size() && text_[i_] == ']') {
      advance();
      return arr;
    }
    while (true) {
      skip_ws();
      if (i_ < text_.size() && text_[i_] == ']') fail("trailing comma before ']': remove it");
      arr.push_back(parse_value(json_path_index(path, arr.size()), depth + 1));
      skip_ws();
      if (i_ < text_.size() && text_[i_] == ',') {
        advance();
        continue;
      }
      if (i_ < text_.size() && text_[i_] == ']') {
        advance();
        return arr;
      }
      fail(fmt::format("unexpected {}: expected ',' or ']'", describe_here()));
    }
  }
};

}  // namespace

std::string json_path_member(const std::string& parent, const std::string& key) {
  if (is_simple_key(key)) return parent.empty() ? key : parent + "." + key;
  return parent + "[" + nlohmann::json(key).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "]";
}

std::string json_path_index(const std::string& parent, size_t index) {
  return parent + "[" + std::to_string(index) + "]";
}

SourcePos JsonDocument::value_pos(const std::string& path) const {
  std::string p = path;
  while (true) {
    auto it = places.find(p);
    if (it != places.end()) return it->second.value;
    if (p.empty()) return {};
    auto cut = p.find_last_of(".[");
    p = cut == std::string::npos ? "" : p.substr(0, cut);
  }
}

SourcePos JsonDocument::key_pos(const std::string& path) const {
  auto it = places.find(path);
  if (it != places.end() && it->second.key.line) return it->second.key;
  return value_pos(path);
}

std::string JsonDocument::where(const std::string& path, bool at_key) const {
  SourcePos p = at_key ? key_pos(path) : value_pos(path);
  if (p.line == 0) return filename;
  return fmt::format("{}:{}:{}", filename, p.line, p.col);
}

JsonDocument parse_json_document(std::string_view text, std::string_view filename) {
  JsonDocument doc;
  doc.filename = std::string(filename);
  Reader(text, doc).run();
  return doc;
}

}  // namespace tsfleet
