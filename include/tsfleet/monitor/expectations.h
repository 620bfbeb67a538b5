#pragma once
// The inventory's expectations (HostPlan.expect, from plan()) checked against a Snapshot: is each
// inventory host in the tailnet, online, and (for routers) reached directly? No role logic here:
// what a host must show comes from the plan only.
#include <string>
#include <vector>

#include "tsfleet/monitor/snapshot.h"
#include "tsfleet/plan.h"

namespace tsfleet::monitor {

struct ExpectedHost {
  std::string host;          // inventory name
  std::string tailnet_name;  // the name it has on the tailnet (prefs.hostname, else the name)
  bool direct = false;       // HostPlan.expect.reachable_directly
};

std::vector<ExpectedHost> expected_hosts(const std::vector<HostPlan>& plans);

// One check of one host: "present", "online" or "direct".
struct ExpectationResult {
  std::string host;
  std::string check;
  bool met = false;
  std::string detail;  // what was seen
};

// Checks each expected host against the snapshot. The host is matched (case-insensitively) by
// the first label of DNSName or by HostName, among the peers and Self. For Self, "direct" is not
// checked (it is us). "direct" of a peer is only reported when its path is known: an idle peer
// gives no "direct" result. Nothing is reported while the daemon is down.
std::vector<ExpectationResult> evaluate_expectations(const std::vector<ExpectedHost>& expected,
                                                     const Snapshot& snapshot);

}  // namespace tsfleet::monitor

namespace tsfleet::monitor {

// The verdict of a tick (`monitor --once` exit code, tsfleet_healthy): the daemon is up,
// BackendState is Running, our own key has not expired, and every expectation checked is met.
// Health warnings alone do not make a node unhealthy (they are reported and counted).
bool is_healthy(const Snapshot& s, const std::vector<ExpectationResult>& expectations);

}  // namespace tsfleet::monitor
