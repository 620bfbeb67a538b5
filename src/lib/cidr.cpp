#include "tsfleet/cidr.h"

#include <arpa/inet.h>

#include <charconv>

namespace tsfleet {

std::optional<Cidr> parse_cidr(std::string_view text, std::string* why) {
  auto bad = [&](const char* msg) -> std::optional<Cidr> {
    if (why) *why = msg;
    return std::nullopt;
  };
  auto slash = text.find('/');
  if (slash == std::string_view::npos) return bad("missing '/prefix' (write e.g. 192.168.1.0/24)");
  std::string addr(text.substr(0, slash));
  std::string_view len = text.substr(slash + 1);
  Cidr c;
  c.v6 = addr.find(':') != std::string::npos;
  if (c.v6) {
    if (inet_pton(AF_INET6, addr.c_str(), c.addr.data()) != 1) return bad("not an IPv6 address");
  } else {
    if (inet_pton(AF_INET, addr.c_str(), c.addr.data()) != 1) return bad("not an IPv4 address");
  }
  if (len.empty() || len.size() > 3) return bad("prefix length must be a number");
  int n = 0;
  auto r = std::from_chars(len.data(), len.data() + len.size(), n);
  if (r.ec != std::errc() || r.ptr != len.data() + len.size()) return bad("prefix length must be a number");
  if (n < 0 || n > (c.v6 ? 128 : 32)) return bad(c.v6 ? "IPv6 prefix length must be 0 to 128" : "IPv4 prefix length must be 0 to 32");
  c.prefix = n;
  return c;
}

namespace {
int width(const Cidr& c) { return c.v6 ? 128 : 32; }
bool bit(const Cidr& c, int i) { return (c.addr[static_cast<size_t>(i / 8)] >> (7 - i % 8)) & 1; }
}  // namespace

Cidr Cidr::masked() const {
  Cidr m = *this;
  for (int i = prefix; i < width(*this); ++i) m.addr[static_cast<size_t>(i / 8)] &= static_cast<uint8_t>(~(1u << (7 - i % 8)));
  return m;
}

bool Cidr::host_bits_set() const { return !(masked() == *this); }

bool Cidr::contains(const Cidr& other) const {
  if (v6 != other.v6 || other.prefix < prefix) return false;
  for (int i = 0; i < prefix; ++i)
    if (bit(*this, i) != bit(other, i)) return false;
  return true;
}

bool Cidr::overlaps(const Cidr& other) const { return contains(other) || other.contains(*this); }

std::string Cidr::to_string() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf);
  return std::string(buf) + "/" + std::to_string(prefix);
}

}  // namespace tsfleet
