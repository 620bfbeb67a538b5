#include "tsfleet/text_diff.h"

#include <algorithm>
#include <vector>

#include <fmt/format.h>

namespace tsfleet {

namespace {

std::vector<std::string_view> split_lines(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t n = s.find('\n', i);
    if (n == std::string_view::npos) {
      out.push_back(s.substr(i));
      break;
    }
    out.push_back(s.substr(i, n - i));
    i = n + 1;
  }
  return out;
}

struct Edit {
  char op;  // ' ', '-', '+'
  std::string_view line;
};

// Longest-common-subsequence edit script; common prefix and suffix are trimmed first, so the
// quadratic table only covers the changed middle (generated modules are small).
std::vector<Edit> edit_script(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b) {
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre && a[a.size() - 1 - suf] == b[b.size() - 1 - suf]) ++suf;
  size_t n = a.size() - pre - suf, m = b.size() - pre - suf;
  std::vector<Edit> out;
  for (size_t i = 0; i < pre; ++i) out.push_back({' ', a[i]});
  if (n * m > 4'000'000) {  // too large to align: show it as replaced
    for (size_t i = 0; i < n; ++i) out.push_back({'-', a[pre + i]});
    for (size_t j = 0; j < m; ++j) out.push_back({'+', b[pre + j]});
  } else {
    std::vector<std::vector<uint32_t>> L(n + 1, std::vector<uint32_t>(m + 1, 0));
    for (size_t i = n; i-- > 0;)
      for (size_t j = m; j-- > 0;)
        L[i][j] = a[pre + i] == b[pre + j] ? L[i + 1][j + 1] + 1 : std::max(L[i + 1][j], L[i][j + 1]);
    size_t i = 0, j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[pre + i] == b[pre + j]) {
        out.push_back({' ', a[pre + i]});
        ++i, ++j;
      } else if (j < m && (i == n || L[i][j + 1] >= L[i + 1][j])) {
        out.push_back({'+', b[pre + j]});
        ++j;
      } else {
        out.push_back({'-', a[pre + i]});
        ++i;
      }
    }
  }
  for (size_t k = a.size() - suf; k < a.size(); ++k) out.push_back({' ', a[k]});
  return out;
}

}  // namespace

std::string unified_diff(std::string_view before, std::string_view after, std::string_view before_name,
                         std::string_view after_name) {
  if (before == after) return "";
  auto a = split_lines(before), b = split_lines(after);
  auto edits = edit_script(a, b);
  constexpr size_t ctx = 3;
  std::string out = fmt::format("--- {}\n+++ {}\n", before_name, after_name);
  size_t k = 0;
  while (k < edits.size()) {
    while (k < edits.size() && edits[k].op == ' ') ++k;
    if (k == edits.size()) break;
    size_t start = k >= ctx ? k - ctx : 0;
    size_t end = k;  // one past the last change of this hunk
    size_t last_change = k;
    while (end < edits.size()) {
      if (edits[end].op != ' ') last_change = end;
      else if (end - last_change > 2 * ctx) break;
      ++end;
    }
    end = std::min(edits.size(), last_change + ctx + 1);
    size_t a_line = 1, b_line = 1;
    for (size_t i = 0; i < start; ++i) {
      if (edits[i].op != '+') ++a_line;
      if (edits[i].op != '-') ++b_line;
    }
    size_t a_count = 0, b_count = 0;
    for (size_t i = start; i < end; ++i) {
      if (edits[i].op != '+') ++a_count;
      if (edits[i].op != '-') ++b_count;
    }
    out += fmt::format("@@ -{},{} +{},{} @@\n", a_count ? a_line : a_line - 1, a_count, b_count ? b_line : b_line - 1, b_count);
    for (size_t i = start; i < end; ++i) {
      out += edits[i].op;
      out.append(edits[i].line);
      out += '\n';
    }
    k = end;
  }
  if (!before.empty() && before.back() != '\n') out += "\\ No newline at end of the file on disk\n";
  return out;
}

}  // namespace tsfleet
