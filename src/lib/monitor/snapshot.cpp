#include "tsfleet/monitor/snapshot.h"

#include <algorithm>

#include "tsfleet/redact.h"

namespace tsfleet::monitor {

std::string_view to_string(PeerPath p) noexcept {
  switch (p) {
    case PeerPath::direct:
      return "direct";
    case PeerPath::derp:
      return "derp";
    case PeerPath::peer_relay:
      return "peer-relay";
    case PeerPath::idle:
      break;
  }
  return "idle";
}

PeerPath peer_path(const localapi::PeerStatus& p) noexcept {
  if (!p.cur_addr.empty()) return PeerPath::direct;
  if (!p.peer_relay.empty()) return PeerPath::peer_relay;
  if (p.active && p.online && !p.relay.empty()) return PeerPath::derp;
  return PeerPath::idle;
}

std::string short_name(std::string_view dns_name, std::string_view fallback) {
  auto dot = dns_name.find('.');
  std::string_view first = dns_name.substr(0, dot);
  if (!first.empty()) return std::string(first);
  return std::string(fallback);
}

PeerView peer_view(const std::string& key, const localapi::PeerStatus& p) {
  PeerView v;
  v.key = key;
  v.id = p.id;
  v.host_name = p.host_name;
  v.name = short_name(p.dns_name, p.host_name.empty() ? p.id : p.host_name);
  if (!p.tailscale_ips.empty()) v.ip = p.tailscale_ips.front();
  v.online = p.online;
  v.active = p.active;
  v.expired = p.expired;
  v.path = peer_path(p);
  switch (v.path) {
    case PeerPath::direct:
      v.endpoint = p.cur_addr;
      break;
    case PeerPath::peer_relay:
      v.endpoint = p.peer_relay;
      break;
    case PeerPath::derp:
      v.endpoint = p.relay;
      break;
    case PeerPath::idle:
      break;
  }
  v.rx_bytes = p.rx_bytes;
  v.tx_bytes = p.tx_bytes;
  if (!p.key_expiry.empty()) v.key_expiry = parse_rfc3339(p.key_expiry);
  return v;
}

Snapshot snapshot_from_status(const localapi::Status& status, TimePoint taken) {
  Snapshot s;
  s.taken = taken;
  s.daemon_up = true;
  s.state = status.backend_state;
  s.state_text = status.backend_state_text;
  s.version = status.version;
  if (status.has_self) s.self = peer_view(status.self.public_key, status.self);
  s.health = status.health;
  std::sort(s.health.begin(), s.health.end());
  s.health.erase(std::unique(s.health.begin(), s.health.end()), s.health.end());
  s.peers.reserve(status.peer.size());
  for (const auto& [key, p] : status.peer) s.peers.push_back(peer_view(key, p));  // map: sorted
  return s;
}

Snapshot unreachable_snapshot(std::string_view error, TimePoint taken) {
  Snapshot s;
  s.taken = taken;
  s.daemon_up = false;
  s.daemon_error = redact(error);
  return s;
}

}  // namespace tsfleet::monitor
