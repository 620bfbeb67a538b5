#include "json_decode.h"

#include <fmt/format.h>

#include <limits>
#include <nlohmann/json.hpp>
#include <optional>

#include "tsfleet/error.h"

namespace tsfleet::localapi::detail {

namespace {

using json = nlohmann::json;

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::string:
    case Kind::opt_string:
      return "string";
    case Kind::boolean:
    case Kind::opt_boolean:
      return "bool";
    case Kind::int64:
    case Kind::opt_int64:
      return "integer";
    case Kind::float64:
      return "number";
    case Kind::string_list:
    case Kind::object_list:
      return "array";
    case Kind::object:
    case Kind::object_map:
    case Kind::key_list:
      return "object";
  }
  return "value";
}

struct Frame {
  enum class Type : std::uint8_t { object, map, key_list, array } type;
  const Schema* schema = nullptr;  // object frames
  const Field* field =
      nullptr;             // object: the pending field (after key()); others: the container field
  void* target = nullptr;  // the struct, map, or vector
  std::string key;         // object/map: the current key
  std::size_t index = 0;   // array: the current index
};

class Decoder final : public nlohmann::json_sax<json> {
 public:
  Decoder(const Schema& schema, void* root, std::string_view what, std::string_view input,
          ParseWarnings* warnings)
      : root_schema_(schema), root_(root), what_(what), input_(input), warnings_(warnings) {
    stack_.reserve(16);
  }

  bool null() override {
    if (skip_) return true;
    // null means "absent": leave the default. Nothing to warn about.
    after_value();
    return true;
  }
  bool boolean(bool v) override {
    if (skip_) return true;
    if (const Field* f = scalar_field()) {
      if (f->kind == Kind::boolean)
        *static_cast<bool*>(target(f)) = v;
      else if (f->kind == Kind::opt_boolean)
        *static_cast<std::optional<bool>*>(target(f)) = v;
      else
        mismatch(f, "bool");
    }
    after_value();
    return true;
  }
  bool number_integer(number_integer_t v) override {
    if (skip_) return true;
    if (const Field* f = scalar_field()) store_int(f, v, true);
    after_value();
    return true;
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (skip_) return true;
    if (const Field* f = scalar_field()) {
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        if (f->kind == Kind::float64)
          *static_cast<double*>(target(f)) = static_cast<double>(v);
        else
          warn(fmt::format("integer {} out of range", v));
      } else {
        store_int(f, static_cast<std::int64_t>(v), true);
      }
    }
    after_value();
    return true;
  }
  bool number_float(number_float_t v, const string_t&) override {
    if (skip_) return true;
    if (const Field* f = scalar_field()) {
      if (f->kind == Kind::float64)
        *static_cast<double*>(target(f)) = v;
      else
        mismatch(f, "non-integer number");
    }
    after_value();
    return true;
  }
  bool string(string_t& v) override {
    if (skip_) return true;
    if (!stack_.empty() && stack_.back().type == Frame::Type::array) {
      Frame& fr = stack_.back();
      if (fr.field->kind == Kind::string_list)
        static_cast<std::vector<std::string>*>(fr.target)->push_back(std::move(v));
      else
        warn("expected object, got string");
    } else if (const Field* f = scalar_field()) {
      if (f->kind == Kind::string)
        *static_cast<std::string*>(target(f)) = std::move(v);
      else if (f->kind == Kind::opt_string)
        *static_cast<std::optional<std::string>*>(target(f)) = std::move(v);
      else
        mismatch(f, "string");
    }
    after_value();
    return true;
  }
  bool binary(binary_t&) override { return true; }  // not produced by the JSON reader

  bool start_object(std::size_t) override {
    if (skip_) return ++skip_, true;
    if (stack_.empty()) {
      if (started_) return begin_skip();
      started_ = true;
      stack_.push_back(Frame{Frame::Type::object, &root_schema_, nullptr, root_, {}, 0});
      return true;
    }
    Frame& fr = stack_.back();
    switch (fr.type) {
      case Frame::Type::object: {
        const Field* f = fr.field;
        if (!f) return begin_skip();
        void* m = f->member(fr.target);
        if (f->kind == Kind::object) {
          void* obj = f->emplace ? f->emplace(m, std::string()) : m;
          stack_.push_back(Frame{Frame::Type::object, f->nested, nullptr, obj, {}, 0});
        } else if (f->kind == Kind::object_map) {
          stack_.push_back(Frame{Frame::Type::map, nullptr, f, m, {}, 0});
        } else if (f->kind == Kind::key_list) {
          stack_.push_back(Frame{Frame::Type::key_list, nullptr, f, m, {}, 0});
        } else {
          mismatch(f, "object");
          return begin_skip();
        }
        return true;
      }
      case Frame::Type::map: {
        void* elem = fr.field->emplace(fr.target, std::string(fr.key));
        stack_.push_back(Frame{Frame::Type::object, fr.field->nested, nullptr, elem, {}, 0});
        return true;
      }
      case Frame::Type::key_list:
        return begin_skip();
      case Frame::Type::array: {
        if (fr.field->kind != Kind::object_list) {
          warn("expected string, got object");
          return begin_skip();
        }
        void* elem = fr.field->emplace(fr.target, std::string());
        stack_.push_back(Frame{Frame::Type::object, fr.field->nested, nullptr, elem, {}, 0});
        return true;
      }
    }
    return true;
  }

  bool key(string_t& k) override {
    if (skip_) return true;
    Frame& fr = stack_.back();
    switch (fr.type) {
      case Frame::Type::object:
        fr.field = fr.schema->find(k);
        if (fr.field) fr.key = k;  // only known keys can appear in a warning path
        break;
      case Frame::Type::map:
        fr.key = k;
        break;
      case Frame::Type::key_list:
        static_cast<std::vector<std::string>*>(fr.target)->push_back(k);
        break;
      case Frame::Type::array:
        break;  // cannot happen
    }
    return true;
  }

  bool end_object() override {
    if (skip_) {
      if (--skip_ == 0) after_value();
      return true;
    }
    if (stack_.size() >= 2) {
      const Frame& parent = stack_[stack_.size() - 2];
      if (parent.type == Frame::Type::map && parent.field->finish)
        parent.field->finish(parent.target, stack_.back().target, parent.key);
    }
    if (!stack_.empty()) stack_.pop_back();
    after_value();
    return true;
  }

  bool start_array(std::size_t) override {
    if (skip_) return ++skip_, true;
    if (stack_.empty()) {
      started_ = true;
      warn("expected object, got array");
      return begin_skip();
    }
    Frame& fr = stack_.back();
    if (fr.type == Frame::Type::object && fr.field) {
      const Field* f = fr.field;
      if (f->kind == Kind::string_list || f->kind == Kind::object_list) {
        void* m = f->member(fr.target);
        if (f->kind == Kind::string_list) static_cast<std::vector<std::string>*>(m)->clear();
        stack_.push_back(Frame{Frame::Type::array, nullptr, f, m, {}, 0});
        return true;
      }
      mismatch(f, "array");
    } else if (fr.type == Frame::Type::array) {
      warn("expected string, got array");
    } else if (fr.type == Frame::Type::map) {
      warn("expected object, got array");
    }
    return begin_skip();
  }

  bool end_array() override {
    if (skip_) {
      if (--skip_ == 0) after_value();
      return true;
    }
    if (!stack_.empty()) stack_.pop_back();
    after_value();
    return true;
  }

  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) override {
    std::string msg;
    // nlohmann's positions are 1-based past the offending character; end of input means truncation.
    if (!input_.empty() &&
        (position >= input_.size() ||
         std::string_view(ex.what()).find("end of input") != std::string_view::npos)) {
      msg = fmt::format("truncated JSON from {}: the document ends after {} bytes", what_,
                        input_.size());
    } else if (input_.empty()) {
      msg = fmt::format("empty response from {} where JSON was expected", what_);
    } else {
      std::string detail = ex.what();
      // Strip nlohmann's "[json.exception.parse_error.101] " prefix: it means nothing to a user.
      if (auto p = detail.find("] "); p != std::string::npos) detail = detail.substr(p + 2);
      msg = fmt::format("malformed JSON from {} at byte {}: {}", what_, position, detail);
    }
    throw Error(ErrorCategory::daemon, msg);
  }

 private:
  void* target(const Field* f) { return f->member(stack_.back().target); }

  // The field a scalar event is for, or null (unknown key, inside a map/key list, at top level).
  const Field* scalar_field() {
    if (stack_.empty()) {
      if (!started_) {
        started_ = true;
        warn("expected object, got a scalar");
      }
      return nullptr;
    }
    Frame& fr = stack_.back();
    switch (fr.type) {
      case Frame::Type::object:
        return fr.field;
      case Frame::Type::map:
        warn("expected object, got a scalar");
        return nullptr;
      case Frame::Type::key_list:
        return nullptr;
      case Frame::Type::array:
        warn(fmt::format("expected {}, got a scalar",
                         fr.field->kind == Kind::string_list ? "string" : "object"));
        return nullptr;
    }
    return nullptr;
  }

  void store_int(const Field* f, std::int64_t v, bool) {
    switch (f->kind) {
      case Kind::int64:
        *static_cast<std::int64_t*>(target(f)) = v;
        break;
      case Kind::opt_int64:
        *static_cast<std::optional<std::int64_t>*>(target(f)) = v;
        break;
      case Kind::float64:
        *static_cast<double*>(target(f)) = static_cast<double>(v);
        break;
      default:
        mismatch(f, "number");
    }
  }

  void mismatch(const Field* f, const char* got) {
    warn(fmt::format("expected {}, got {}", kind_name(f->kind), got));
  }

  void warn(std::string message) {
    if (!warnings_) return;
    if (warnings_->items.size() >= warnings_->limit) {
      ++warnings_->dropped;
      return;
    }
    warnings_->items.push_back(ParseWarning{path(), std::move(message)});
  }

  std::string path() const {
    std::string p(root_schema_.name);
    for (const Frame& fr : stack_) {
      switch (fr.type) {
        case Frame::Type::object:
          if (fr.field) fmt::format_to(std::back_inserter(p), "{}{}", p.empty() ? "" : ".", fr.key);
          break;
        case Frame::Type::map:
          fmt::format_to(std::back_inserter(p), "[\"{}\"]", fr.key);
          break;
        case Frame::Type::key_list:
          break;
        case Frame::Type::array:
          fmt::format_to(std::back_inserter(p), "[{}]", fr.index);
          break;
      }
    }
    return p.empty() ? std::string("(top level)") : p;
  }

  bool begin_skip() {
    skip_ = 1;
    return true;
  }

  void after_value() {
    if (!stack_.empty() && stack_.back().type == Frame::Type::array) ++stack_.back().index;
  }

  const Schema& root_schema_;
  void* root_;
  std::string_view what_;
  std::string_view input_;
  ParseWarnings* warnings_;
  std::vector<Frame> stack_;
  std::size_t skip_ = 0;
  bool started_ = false;
};

}  // namespace

void decode(std::string_view json_text, const Schema& schema, void* root, std::string_view what,
            ParseWarnings* warnings) {
  Decoder d(schema, root, what, json_text, warnings);
  json::sax_parse(json_text.begin(), json_text.end(), &d, nlohmann::detail::input_format_t::json,
                  /*strict=*/true);
}

}  // namespace tsfleet::localapi::detail
