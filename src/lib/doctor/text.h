#pragma once
// Small text helpers shared by doctor's readers of /proc, /etc and config files (parsers.cpp,
// sntp.cpp). Internal to the library.
#include <cstddef>
#include <string_view>
#include <vector>

namespace tsfleet::doctor::text {

inline bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The whitespace-separated words of `s`.
inline std::vector<std::string_view> split_ws(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && is_space(s[i])) ++i;
    std::size_t j = i;
    while (j < s.size() && !is_space(s[j])) ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

// Calls fn(line) for every line of `text` (without the '\n'; a last line without one too, and an
// empty one after a final '\n').
template <class Fn>
void for_each_line(std::string_view text, Fn fn) {
  std::size_t i = 0;
  while (i <= text.size()) {
    std::size_t j = text.find('\n', i);
    if (j == std::string_view::npos) j = text.size();
    fn(text.substr(i, j - i));
    if (j == text.size()) break;
    i = j + 1;
  }
}

// systemd's INI files (units, timesyncd.conf): calls fn(key, value), both trimmed, for every
// `key=value` line inside `[section]`; comments (# and ;) and other sections are skipped.
template <class Fn>
void for_each_ini_entry(std::string_view text, std::string_view section, Fn fn) {
  bool inside = false;
  for_each_line(text, [&](std::string_view line) {
    std::string_view t = trim(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') return;
    if (t.front() == '[') {
      inside = t.size() == section.size() + 2 && t.back() == ']' &&
               t.substr(1, section.size()) == section;
      return;
    }
    std::size_t eq = t.find('=');
    if (!inside || eq == std::string_view::npos) return;
    fn(trim(t.substr(0, eq)), trim(t.substr(eq + 1)));
  });
}

}  // namespace tsfleet::doctor::text
