#pragma once
// What one monitor tick saw: the daemon's status reduced to what monitor watches (backend state,
// health, and per peer: online, path, counters, key expiry).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/localapi/types.h"
#include "tsfleet/monitor/clock.h"

namespace tsfleet::monitor {

// How traffic to a peer flows right now. `idle`: no traffic in the last ~2 minutes (or offline),
// so the daemon does not say; tailscale status prints "idle" or "-" for it.
enum class PeerPath { idle, direct, derp, peer_relay };
std::string_view to_string(PeerPath p) noexcept;  // "idle" | "direct" | "derp" | "peer-relay"

// From PeerStatus as `tailscale status` decides it: CurAddr -> direct, else PeerRelay ->
// peer-relay, else an active peer with a Relay -> derp, else idle.
PeerPath peer_path(const localapi::PeerStatus& p) noexcept;

struct PeerView {
  std::string key;        // "nodekey:…" (the Status.Peer key)
  std::string id;         // StableNodeID
  std::string name;       // first label of DNSName, else HostName
  std::string host_name;  // HostName as sent
  std::string ip;         // first Tailscale IP
  bool online = false;
  bool active = false;
  bool expired = false;
  PeerPath path = PeerPath::idle;
  std::string endpoint;  // CurAddr, PeerRelay or the DERP region code, matching `path`
  std::int64_t rx_bytes = 0, tx_bytes = 0;
  std::optional<TimePoint> key_expiry;
};

struct Snapshot {
  TimePoint taken{};
  bool daemon_up = false;
  std::string daemon_error;  // why it is not up (redacted error text)
  localapi::BackendState state = localapi::BackendState::unknown;
  std::string state_text;  // BackendState as sent ("" when the daemon is down)
  std::string version;
  PeerView self;                    // our own node (its name is the `host` of every event)
  std::vector<std::string> health;  // Status.Health, sorted, unique
  std::vector<PeerView> peers;      // sorted by key
  std::string usermetrics;          // the daemon's Prometheus text ("" when unavailable)
};

// The first DNS label of a MagicDNS name ("web1.tail1234.ts.net." -> "web1"), else `fallback`.
std::string short_name(std::string_view dns_name, std::string_view fallback);

PeerView peer_view(const std::string& key, const localapi::PeerStatus& p);

// A Snapshot of a reachable daemon from its status.
Snapshot snapshot_from_status(const localapi::Status& status, TimePoint taken);

// A Snapshot of an unreachable daemon (error text redacted).
Snapshot unreachable_snapshot(std::string_view error, TimePoint taken);

}  // namespace tsfleet::monitor
