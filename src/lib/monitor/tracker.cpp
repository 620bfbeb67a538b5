#include "tsfleet/monitor/tracker.h"

#include <fmt/format.h>

#include <unordered_set>

namespace tsfleet::monitor {

namespace {

std::string_view expiry_word(int e) { return e == 0 ? "ok" : e == 1 ? "soon" : "expired"; }

std::string key_of(const ExpectationResult& r) { return r.host + "/" + r.check; }

std::string_view check_sentence(const std::string& check, bool met) {
  if (check == "present") return met ? "is in the tailnet" : "is not in the tailnet";
  if (check == "online") return met ? "is online" : "is offline";
  if (check == "direct")
    return met ? "is reached directly" : "is relayed, not reached directly as its role expects";
  return met ? "meets its expectation" : "does not meet its expectation";
}

}  // namespace

Event Tracker::make(std::string_view kind, EventSeverity sev, TimePoint t, std::string peer,
                    std::string old_value, std::string new_value, std::string message) const {
  Event e;
  e.kind = std::string(kind);
  e.time = t;
  e.severity = sev;
  e.host = host_;
  e.peer = std::move(peer);
  e.old_value = std::move(old_value);
  e.new_value = std::move(new_value);
  e.message = std::move(message);
  return e;
}

Tracker::Expiry Tracker::expiry_of(const PeerView& p, TimePoint now) const {
  if (p.expired) return Expiry::expired;
  if (!p.key_expiry) return Expiry::ok;
  if (*p.key_expiry <= now) return Expiry::expired;
  if (*p.key_expiry - now <= options_.expiry_warning) return Expiry::soon;
  return Expiry::ok;
}

void Tracker::expiry_events(const PeerView& p, Expiry before, Expiry now_state, bool first,
                            TimePoint t, bool is_self, std::vector<Event>& out) const {
  if (before == now_state) return;
  if (first && now_state == Expiry::ok) return;
  std::string who =
      is_self ? fmt::format("this node's key ({})", p.name) : fmt::format("the key of {}", p.name);
  std::string when = p.key_expiry ? format_rfc3339(*p.key_expiry) : std::string("unknown time");
  std::string message;
  EventSeverity sev = EventSeverity::info;
  if (now_state == Expiry::soon) {
    sev = EventSeverity::warning;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*p.key_expiry - t);
    message = fmt::format(
        "{} expires in {} (at {}): re-authenticate the node or disable key expiry for it", who,
        format_duration(left), when);
  } else if (now_state == Expiry::expired) {
    sev = EventSeverity::error;
    message = fmt::format(
        "{} has expired (at {}): the node cannot connect until it is re-authenticated", who, when);
  } else {
    message = fmt::format("{} no longer expires soon (now: {})", who, when);
  }
  out.push_back(make(event_kind::key_expiry, sev, t, is_self ? std::string() : p.name,
                     first ? std::string() : std::string(expiry_word(static_cast<int>(before))),
                     std::string(expiry_word(static_cast<int>(now_state))), std::move(message)));
}

std::vector<Event> Tracker::observe(const Snapshot& s,
                                    const std::vector<ExpectationResult>& expectations) {
  std::vector<Event> out;
  const TimePoint t = s.taken;
  const bool first = first_;
  first_ = false;
  if (!s.daemon_up) {
    if (first || daemon_up_)
      out.push_back(make(event_kind::daemon_unreachable, EventSeverity::error, t, "",
                         first ? "" : "up", "down",
                         fmt::format("tailscaled is unreachable: {}", s.daemon_error)));
    daemon_up_ = false;
    return out;
  }
  if (!s.self.name.empty()) host_ = s.self.name;
  if (!first && !daemon_up_)
    out.push_back(make(event_kind::daemon_back, EventSeverity::info, t, "", "down", "up",
                       fmt::format("tailscaled answers again (BackendState {})", s.state_text)));
  daemon_up_ = true;

  if (first) {
    out.push_back(
        make(event_kind::started, EventSeverity::info, t, "", "", s.state_text,
             fmt::format("monitoring tailscaled {}: BackendState {}, {} peers, {} health warnings",
                         s.version, s.state_text, s.peers.size(), s.health.size())));
    if (s.state != localapi::BackendState::running)
      out.push_back(make(event_kind::backend_state, EventSeverity::warning, t, "", "", s.state_text,
                         fmt::format("BackendState is {}, not Running", s.state_text)));
  } else if (s.state_text != state_text_) {
    bool running = s.state == localapi::BackendState::running;
    out.push_back(make(event_kind::backend_state,
                       running ? EventSeverity::info : EventSeverity::warning, t, "", state_text_,
                       s.state_text,
                       fmt::format("BackendState {} -> {}", state_text_, s.state_text)));
  }
  state_text_ = s.state_text;

  // Health warnings (Status.Health).
  std::set<std::string> health(s.health.begin(), s.health.end());
  for (const auto& h : health)
    if (!health_.count(h))
      out.push_back(make(event_kind::health_warning, EventSeverity::warning, t, "", "", h, h));
  for (const auto& h : health_)
    if (!health.count(h))
      out.push_back(make(event_kind::health_cleared, EventSeverity::info, t, "", h, "",
                         "health warning cleared: " + h));
  health_ = std::move(health);

  // Our own key.
  if (!s.self.name.empty()) {
    Expiry e = expiry_of(s.self, t);
    expiry_events(s.self, self_expiry_, e, first, t, true, out);
    self_expiry_ = e;
  }

  // Peers: only while Running (in other states the daemon lists none, which is not 1,000 removals).
  if (s.state == localapi::BackendState::running) {
    const bool seeding = !peers_seeded_;
    peers_seeded_ = true;
    std::unordered_set<std::string_view> present;
    present.reserve(s.peers.size());
    for (const auto& p : s.peers) {
      present.insert(p.key);
      Expiry e = expiry_of(p, t);
      auto it = peers_.find(p.key);
      if (it == peers_.end()) {
        if (!seeding)
          out.push_back(make(event_kind::peer_added, EventSeverity::info, t, p.name, "",
                             p.online ? "online" : "offline",
                             fmt::format("{} ({}) joined the tailnet", p.name, p.ip)));
        expiry_events(p, Expiry::ok, e, true, t, false, out);
        peers_.emplace(p.key, PeerMemory{p.name, p.online, p.path, e});
        continue;
      }
      PeerMemory& m = it->second;
      if (m.online != p.online)
        out.push_back(make(
            p.online ? event_kind::peer_online : event_kind::peer_offline,
            p.online ? EventSeverity::info : EventSeverity::warning, t, p.name,
            m.online ? "online" : "offline", p.online ? "online" : "offline",
            fmt::format("{} ({}) is {}", p.name, p.ip, p.online ? "online again" : "offline")));
      if (p.path != PeerPath::idle) {
        if (m.last_path != PeerPath::idle && m.last_path != p.path) {
          bool better = p.path == PeerPath::direct;
          out.push_back(make(event_kind::peer_path,
                             better ? EventSeverity::info : EventSeverity::warning, t, p.name,
                             std::string(to_string(m.last_path)), std::string(to_string(p.path)),
                             fmt::format("traffic to {} now goes {} ({})", p.name,
                                         p.path == PeerPath::direct ? "direct"
                                         : p.path == PeerPath::derp ? "via DERP"
                                                                    : "via a peer relay",
                                         p.endpoint)));
        }
        m.last_path = p.path;
      }
      expiry_events(p, m.expiry, e, false, t, false, out);
      m.expiry = e;
      m.online = p.online;
      m.name = p.name;
    }
    for (auto it = peers_.begin(); it != peers_.end();) {
      if (present.count(it->first)) {
        ++it;
        continue;
      }
      out.push_back(make(event_kind::peer_removed, EventSeverity::info, t, it->second.name,
                         "present", "",
                         fmt::format("{} left the tailnet (or is no longer visible to this node)",
                                     it->second.name)));
      it = peers_.erase(it);
    }
  }

  // The inventory's expectations.
  for (const auto& r : expectations) {
    std::string k = key_of(r);
    auto it = expectations_.find(k);
    bool changed = it == expectations_.end() ? !r.met : it->second != r.met;
    if (changed) {
      bool was_known = it != expectations_.end();
      out.push_back(make(event_kind::expectation,
                         r.met ? EventSeverity::info : EventSeverity::error, t, r.host,
                         was_known ? (it->second ? "met" : "unmet") : "", r.met ? "met" : "unmet",
                         fmt::format("{} {}{}: {}", r.host, check_sentence(r.check, r.met),
                                     was_known && r.met ? " again" : "", r.detail)));
    }
    expectations_[k] = r.met;
  }
  return out;
}

std::vector<Event> Tracker::observe_state(localapi::BackendState state, TimePoint when) {
  std::vector<Event> out;
  if (first_ || !daemon_up_) return out;  // the next tick reports it with the whole picture
  std::string text(localapi::to_string(state));
  if (state == localapi::BackendState::unknown || text == state_text_) return out;
  bool running = state == localapi::BackendState::running;
  out.push_back(make(event_kind::backend_state,
                     running ? EventSeverity::info : EventSeverity::warning, when, "", state_text_,
                     text,
                     fmt::format("BackendState {} -> {} (from the IPN bus)", state_text_, text)));
  state_text_ = text;
  return out;
}

}  // namespace tsfleet::monitor
