#include "tsfleet/monitor/prometheus.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <map>
#include <set>
#include <string>

namespace tsfleet::monitor::prom {

namespace {

bool name_start(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool name_char(char c) noexcept { return name_start(c) || (c >= '0' && c <= '9'); }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

// The next whitespace-separated token of s (advancing it).
std::string_view token(std::string_view& s) {
  s = trim(s);
  std::size_t n = 0;
  while (n < s.size() && s[n] != ' ' && s[n] != '\t') ++n;
  auto t = s.substr(0, n);
  s.remove_prefix(n);
  return t;
}

std::string unescape_help(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size()) {
      char n = s[i + 1];
      if (n == 'n') {
        out += '\n';
        ++i;
        continue;
      }
      if (n == '\\') {
        out += '\\';
        ++i;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

std::optional<double> parse_value(std::string_view s) {
  if (s == "+Inf" || s == "Inf" || s == "inf" || s == "+inf") return HUGE_VAL;
  if (s == "-Inf" || s == "-inf") return -HUGE_VAL;
  if (s == "NaN" || s == "nan") return std::nan("");
  if (s.empty() || s.size() > 64) return std::nullopt;
  // strtod wants a terminated string and accepts more than Prometheus does (hex, "infinity"); both
  // are harmless here, but reject anything with letters other than an exponent.
  for (char c : s)
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'))
      return std::nullopt;
  std::string t(s);
  char* end = nullptr;
  double v = std::strtod(t.c_str(), &end);
  if (end != t.c_str() + t.size()) return std::nullopt;
  return v;
}

// Parses `{a="x",b="y"}` at s (starting at '{'); advances s past '}'. nullopt + why on error.
std::optional<Labels> parse_labels(std::string_view& s, std::string& why) {
  Labels labels;
  s.remove_prefix(1);  // '{'
  for (;;) {
    s = trim(s);
    if (s.empty()) {
      why = "unterminated label set";
      return std::nullopt;
    }
    if (s.front() == '}') {
      s.remove_prefix(1);
      return labels;
    }
    std::size_t n = 0;
    while (n < s.size() && name_char(s[n])) ++n;
    std::string name(s.substr(0, n));
    if (!valid_label_name(name)) {
      why = "bad label name";
      return std::nullopt;
    }
    s.remove_prefix(n);
    s = trim(s);
    if (s.empty() || s.front() != '=') {
      why = fmt::format("expected '=' after label {}", name);
      return std::nullopt;
    }
    s.remove_prefix(1);
    s = trim(s);
    if (s.empty() || s.front() != '"') {
      why = fmt::format("expected '\"' to open the value of label {}", name);
      return std::nullopt;
    }
    s.remove_prefix(1);
    std::string value;
    bool closed = false;
    while (!s.empty()) {
      char c = s.front();
      s.remove_prefix(1);
      if (c == '"') {
        closed = true;
        break;
      }
      if (c == '\\' && !s.empty()) {
        char e = s.front();
        s.remove_prefix(1);
        if (e == 'n')
          value += '\n';
        else if (e == '\\' || e == '"')
          value += e;
        else {
          value += '\\';
          value += e;
        }
        continue;
      }
      value += c;
    }
    if (!closed) {
      why = fmt::format("unterminated value of label {}", name);
      return std::nullopt;
    }
    labels.emplace_back(std::move(name), std::move(value));
    s = trim(s);
    if (!s.empty() && s.front() == ',') s.remove_prefix(1);
  }
}

bool belongs(const Family& f, std::string_view sample) {
  if (sample == f.name) return true;
  auto suffix = [&](std::string_view suf) {
    return sample.size() == f.name.size() + suf.size() &&
           sample.substr(0, f.name.size()) == f.name && sample.substr(f.name.size()) == suf;
  };
  if (f.type == "histogram") return suffix("_bucket") || suffix("_sum") || suffix("_count");
  if (f.type == "summary") return suffix("_sum") || suffix("_count");
  return false;
}

// Replaces every byte that is not part of valid UTF-8 by U+FFFD (the format is UTF-8).
std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80           ? 1
                    : (c >> 5) == 0x6  ? 2
                    : (c >> 4) == 0xE  ? 3
                    : (c >> 3) == 0x1E ? 4
                                       : 0;
    bool ok = n > 0 && i + n <= s.size();
    for (std::size_t k = 1; ok && k < n; ++k)
      ok = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    if (ok && n == 2) ok = c >= 0xC2;
    if (ok && n == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);
    }
    if (ok && n == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      ok = c <= 0xF4 && !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
    }
    if (ok) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

}  // namespace

bool valid_metric_name(std::string_view s) noexcept {
  if (s.empty() || !(name_start(s[0]) || s[0] == ':')) return false;
  for (char c : s)
    if (!(name_char(c) || c == ':')) return false;
  return true;
}

bool valid_label_name(std::string_view s) noexcept {
  if (s.empty() || !name_start(s[0])) return false;
  for (char c : s)
    if (!name_char(c)) return false;
  return true;
}

ParseResult parse_text(std::string_view text, const ParseLimits& limits) {
  ParseResult r;
  std::map<std::string, std::size_t, std::less<>> index;  // family name -> position
  std::size_t current = SIZE_MAX;
  std::size_t samples = 0;
  std::size_t line_no = 0;
  auto error = [&](std::string msg) {
    if (r.errors.size() < limits.max_errors)
      r.errors.push_back(fmt::format("line {}: {}", line_no, msg));
  };
  auto family_for = [&](std::string_view name) -> std::size_t {
    auto it = index.find(name);
    if (it != index.end()) return it->second;
    Family f;
    f.name = std::string(name);
    r.families.push_back(std::move(f));
    index.emplace(std::string(name), r.families.size() - 1);
    return r.families.size() - 1;
  };
  while (!text.empty()) {
    ++line_no;
    std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    line = trim(line);
    if (line.empty()) continue;
    if (line.front() == '#') {
      std::string_view rest = line.substr(1);
      std::string_view kw = token(rest);
      if (kw != "HELP" && kw != "TYPE") continue;  // a comment
      std::string_view name = token(rest);
      if (!valid_metric_name(name)) {
        error(fmt::format("# {} with an invalid metric name", kw));
        continue;
      }
      std::size_t f;
      if (kw == "HELP") {
        f = family_for(name);
        rest = trim(rest);
        r.families[f].help = unescape_help(rest);
      } else {
        std::string_view type = token(rest);
        if (type != "counter" && type != "gauge" && type != "histogram" && type != "summary" &&
            type != "untyped") {
          error(fmt::format(
              "unknown TYPE \"{}\" for {}",
              valid_metric_name(type) ? std::string(type.substr(0, 32)) : std::string("?"), name));
          continue;
        }
        f = family_for(name);
        r.families[f].type = std::string(type);
      }
      current = f;
      continue;
    }
    // A sample: name[{labels}] value [timestamp]
    std::size_t n = 0;
    while (n < line.size() && (name_char(line[n]) || line[n] == ':')) ++n;
    std::string_view name = line.substr(0, n);
    if (!valid_metric_name(name)) {
      error("a sample without a valid metric name");
      continue;
    }
    std::string_view rest = line.substr(n);
    rest = trim(rest);
    Labels labels;
    if (!rest.empty() && rest.front() == '{') {
      std::string why;
      auto l = parse_labels(rest, why);
      if (!l) {
        error(fmt::format("{}: {}", name, why));
        continue;
      }
      labels = std::move(*l);
    }
    std::string_view v = token(rest);
    auto value = parse_value(v);
    if (!value) {
      error(fmt::format("{}: bad value", name));
      continue;
    }
    std::optional<std::int64_t> ts;
    std::string_view t = token(rest);
    if (!t.empty()) {
      std::int64_t x = 0;
      auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), x);
      if (ec != std::errc() || p != t.data() + t.size()) {
        error(fmt::format("{}: bad timestamp", name));
        continue;
      }
      ts = x;
    }
    if (!trim(rest).empty()) {
      error(fmt::format("{}: text after the value", name));
      continue;
    }
    if (samples >= limits.max_samples) {
      if (r.dropped_samples++ == 0) error("too many samples: the rest are dropped");
      continue;
    }
    std::size_t f =
        current != SIZE_MAX && belongs(r.families[current], name) ? current : family_for(name);
    if (f != current && !belongs(r.families[f], name)) f = family_for(name);
    r.families[f].samples.push_back(Sample{std::string(name), std::move(labels), *value, ts});
    ++samples;
  }
  return r;
}

std::string escape_label_value(std::string_view raw) {
  std::string s = valid_utf8(raw);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string escape_help(std::string_view raw) {
  std::string s = valid_utf8(raw);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string format_value(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15)
    return fmt::format("{}", static_cast<long long>(v));
  return fmt::format("{}", v);
}

void Writer::family(std::string_view name, std::string_view help, std::string_view type) {
  out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type);
}

void Writer::sample(std::string_view name, const Labels& labels, double value) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [k, v] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += k;
      out_ += "=\"";
      out_ += escape_label_value(v);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  out_ += format_value(value);
  out_ += '\n';
}

void write_families(Writer& w, const std::vector<Family>& families, std::string_view prefix,
                    std::string_view default_help) {
  std::set<std::string> seen_families;
  for (const auto& f : families) {
    if (f.name.compare(0, prefix.size(), prefix) != 0 || !valid_metric_name(f.name)) continue;
    if (!seen_families.insert(f.name).second) continue;
    std::set<std::string> seen_series;
    std::vector<const Sample*> keep;
    for (const auto& s : f.samples) {
      if (!valid_metric_name(s.name)) continue;
      bool ok = true;
      std::set<std::string> names;
      std::string key = s.name;
      for (const auto& [k, v] : s.labels) {
        if (!valid_label_name(k) || k.rfind("__", 0) == 0 || !names.insert(k).second) ok = false;
        key += '\0' + k + '\0' + valid_utf8(v);  // as written: two raw values may write the same
      }
      if (!ok || !seen_series.insert(key).second) continue;
      keep.push_back(&s);
    }
    if (keep.empty()) continue;
    std::string help = f.help;
    for (char& c : help)
      if (static_cast<unsigned char>(c) < 0x20 && c != '\n') c = ' ';
    // The parser trims HELP text; so do we, or a second round would differ.
    while (!help.empty() && (help.back() == ' ' || help.back() == '\t')) help.pop_back();
    while (!help.empty() && (help.front() == ' ' || help.front() == '\t')) help.erase(0, 1);
    w.family(f.name, help.empty() ? fmt::format("{} {}", default_help, f.name) : help, f.type);
    for (const Sample* s : keep) w.sample(s->name, s->labels, s->value);
  }
}

}  // namespace tsfleet::monitor::prom
