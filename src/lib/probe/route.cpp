#include "tsfleet/probe/route.h"

#include <fmt/format.h>

#include <vector>

#include "tsfleet/error.h"

namespace tsfleet::probe {

namespace {
std::vector<std::string> words(std::string_view s) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() &&
           (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\\'))
      ++i;
    std::size_t j = i;
    while (j < s.size() &&
           !(s[j] == ' ' || s[j] == '\t' || s[j] == '\n' || s[j] == '\r' || s[j] == '\\'))
      ++j;
    if (j > i) out.emplace_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}
}  // namespace

RouteLookup parse_ip_route_get(std::string_view output) {
  RouteLookup r;
  // Only the first line describes the route; "cache ..." lines follow.
  std::string_view first = output.substr(0, output.find('\n'));
  auto w = words(first);
  if (w.empty()) {
    r.error = "ip route get printed nothing";
    return r;
  }
  static const std::vector<std::string> types = {
      "unicast",   "local",    "broadcast", "multicast", "unreachable",
      "blackhole", "prohibit", "throw",     "nat",       "anycast"};
  std::size_t i = 0;
  r.type = "unicast";
  for (const auto& t : types)
    if (w[0] == t) {
      r.type = t;
      i = 1;
    }
  if (i >= w.size()) {
    r.error = fmt::format("unexpected ip route get output: {}", first);
    return r;
  }
  r.destination = w[i++];
  if (r.destination.find_first_not_of("0123456789abcdefABCDEF.:/") != std::string::npos) {
    r.error = fmt::format("unexpected ip route get output: {}", first);
    return r;
  }
  for (; i < w.size(); ++i) {
    const std::string& k = w[i];
    bool has_value = i + 1 < w.size();
    if (k == "dev" && has_value)
      r.dev = w[++i];
    else if (k == "via" && has_value)
      r.via = w[++i];
    else if (k == "src" && has_value)
      r.src = w[++i];
    else if (k == "table" && has_value)
      r.table = w[++i];
    else if ((k == "uid" || k == "from" || k == "mark" || k == "proto" || k == "metric" ||
              k == "iif" || k == "realms" || k == "expires" || k == "mtu" || k == "scope") &&
             has_value)
      ++i;
  }
  if (r.dev.empty() && r.type == "unicast") {
    r.error = fmt::format("ip route get named no interface: {}", first);
    return r;
  }
  r.ok = true;
  return r;
}

RouteLookup route_get(sys::ProcessRunner& runner, const std::string& address) {
  sys::ProcessRequest req;
  req.argv = {"ip", "route", "get", address};
  req.timeout = std::chrono::milliseconds(5000);
  auto res = runner.run(req);
  if (res.exit_code != 0) {
    RouteLookup r;
    r.destination = address;
    std::string err = res.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    if (err.rfind("RTNETLINK answers: ", 0) == 0) err = err.substr(19);
    r.error = err.empty() ? fmt::format("ip route get {} exited {}", address, res.exit_code) : err;
    return r;
  }
  return parse_ip_route_get(res.out);
}

}  // namespace tsfleet::probe
