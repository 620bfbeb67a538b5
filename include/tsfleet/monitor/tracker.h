#pragma once
// Turns successive Snapshots into Events: what changed since the last tick. Holds only the last
// state per peer (bounded by the tailnet's size), never a history.
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "tsfleet/monitor/event.h"
#include "tsfleet/monitor/expectations.h"
#include "tsfleet/monitor/snapshot.h"

namespace tsfleet::monitor {

struct TrackerOptions {
  std::chrono::milliseconds expiry_warning = std::chrono::hours(24 * 14);
};

class Tracker {
 public:
  explicit Tracker(TrackerOptions options = {}) : options_(options) {}

  // Compares with the previous observation. The first observation reports only problems
  // (daemon unreachable, backend not Running, health warnings, keys expiring, expectations unmet)
  // plus one monitor_started event; after that, every change:
  //   daemon_unreachable / daemon_back, backend_state, peer_online / peer_offline,
  //   peer_added / peer_removed, peer_path (between direct, derp and peer-relay: an idle spell
  //   in between does not hide a change), key_expiry (entering the warning window, expiring),
  //   health_warning / health_cleared, expectation (met <-> unmet).
  std::vector<Event> observe(const Snapshot& s, const std::vector<ExpectationResult>& expectations);

  // A backend state seen on the IPN bus between ticks: a backend_state event if it changed.
  std::vector<Event> observe_state(localapi::BackendState state, TimePoint when);

  // The name of this node as last seen ("" before the first reachable snapshot).
  const std::string& host() const { return host_; }
  std::size_t peers_tracked() const { return peers_.size(); }

 private:
  enum class Expiry { ok, soon, expired };
  struct PeerMemory {
    std::string name;
    bool online = false;
    PeerPath last_path = PeerPath::idle;  // the last non-idle path (idle: never seen active)
    Expiry expiry = Expiry::ok;
  };
  Event make(std::string_view kind, EventSeverity sev, TimePoint t, std::string peer,
             std::string old_value, std::string new_value, std::string message) const;
  Expiry expiry_of(const PeerView& p, TimePoint now) const;
  void expiry_events(const PeerView& p, Expiry before, Expiry now_state, bool first, TimePoint t,
                     bool is_self, std::vector<Event>& out) const;

  TrackerOptions options_;
  bool first_ = true;
  bool peers_seeded_ = false;
  bool daemon_up_ = false;
  std::string state_text_;
  std::string host_;
  Expiry self_expiry_ = Expiry::ok;
  std::set<std::string> health_;
  std::map<std::string, PeerMemory> peers_;   // by node key
  std::map<std::string, bool> expectations_;  // "host/check" -> met
};

}  // namespace tsfleet::monitor
