#include "tsfleet/redact.h"

#include <cctype>

namespace tsfleet {

namespace {
constexpr std::string_view kPrefix = "tskey-";
bool key_char(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return std::isalnum(u) || c == '-' || c == '_' || c == '?' || c == '=' || c == '&' || c == '.' || c == '%';
}
}  // namespace

std::string redact(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t k = text.find(kPrefix, i);
    if (k == std::string_view::npos) {
      out.append(text.substr(i));
      break;
    }
    out.append(text.substr(i, k - i));
    size_t e = k + kPrefix.size();
    while (e < text.size() && key_char(text[e])) ++e;
    out.append("tskey-REDACTED");
    i = e;
  }
  return out;
}

bool contains_secret(std::string_view text) { return text.find(kPrefix) != std::string_view::npos; }

}  // namespace tsfleet
