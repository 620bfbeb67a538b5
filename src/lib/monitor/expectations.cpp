#include "tsfleet/monitor/expectations.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

namespace tsfleet::monitor {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool matches(const PeerView& p, const std::string& want) {
  return !want.empty() && (lower(p.name) == want || lower(p.host_name) == want);
}

}  // namespace

std::vector<ExpectedHost> expected_hosts(const std::vector<HostPlan>& plans) {
  std::vector<ExpectedHost> out;
  out.reserve(plans.size());
  for (const auto& p : plans)
    out.push_back(ExpectedHost{p.name, p.prefs.hostname.empty() ? p.name : p.prefs.hostname,
                               p.expect.reachable_directly});
  return out;
}

std::vector<ExpectationResult> evaluate_expectations(const std::vector<ExpectedHost>& expected,
                                                     const Snapshot& s) {
  std::vector<ExpectationResult> out;
  if (!s.daemon_up) return out;
  for (const auto& e : expected) {
    std::string want = lower(e.tailnet_name);
    const PeerView* found = nullptr;
    bool is_self = false;
    if (matches(s.self, want)) {
      found = &s.self;
      is_self = true;
    } else {
      for (const auto& p : s.peers)
        if (matches(p, want)) {
          found = &p;
          break;
        }
    }
    if (!found) {
      out.push_back(
          {e.host, "present", false,
           fmt::format("no node named {} in the tailnet as this daemon sees it", e.tailnet_name)});
      out.push_back({e.host, "online", false, "not in the tailnet"});
      continue;
    }
    out.push_back({e.host, "present", true, fmt::format("{} ({})", found->name, found->ip)});
    out.push_back({e.host, "online", found->online, found->online ? "online" : "offline"});
    if (e.direct && !is_self && found->path != PeerPath::idle) {
      bool direct = found->path == PeerPath::direct;
      out.push_back({e.host, "direct", direct,
                     fmt::format("{} {}", to_string(found->path), found->endpoint)});
    }
  }
  return out;
}

bool is_healthy(const Snapshot& s, const std::vector<ExpectationResult>& expectations) {
  if (!s.daemon_up || s.state != localapi::BackendState::running || s.self.expired) return false;
  return std::all_of(expectations.begin(), expectations.end(),
                     [](const ExpectationResult& r) { return r.met; });
}

}  // namespace tsfleet::monitor
