#include "tsfleet/monitor/metrics.h"

#include <array>
#include <chrono>

#include "tsfleet/monitor/prometheus.h"

namespace tsfleet::monitor {

namespace {

using prom::Labels;
using prom::Writer;

double seconds_between(TimePoint later, TimePoint earlier) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(later - earlier).count() / 1000.0;
}

Labels peer_labels(const PeerView& p) {
  return {{"peer", p.name}, {"id", p.id.empty() ? p.key : p.id}};
}

}  // namespace

std::string render_metrics(const MetricsInput& in) {
  static const Snapshot kEmpty;
  static const std::vector<ExpectationResult> kNone;
  static const MonitorCounters kZero;
  const Snapshot& s = in.snapshot ? *in.snapshot : kEmpty;
  const auto& ex = in.expectations ? *in.expectations : kNone;
  const MonitorCounters& c = in.counters ? *in.counters : kZero;
  Writer w;

  w.family("tsfleet_daemon_up",
           "Whether tailscaled answered the last status request (1) or not (0).", "gauge");
  w.sample("tsfleet_daemon_up", s.daemon_up ? 1 : 0);
  w.family("tsfleet_healthy",
           "1 when the daemon is up, BackendState is Running, this node's key is valid and every "
           "inventory "
           "expectation is met.",
           "gauge");
  w.sample("tsfleet_healthy", in.healthy ? 1 : 0);

  w.family("tsfleet_backend_state",
           "tailscaled's BackendState: 1 for the current state, 0 for the others.", "gauge");
  static constexpr std::array<std::string_view, 7> kStates = {
      "NoState", "InUseOtherUser", "NeedsLogin", "NeedsMachineAuth",
      "Stopped", "Starting",       "Running"};
  bool known = false;
  for (auto st : kStates) {
    bool cur = s.daemon_up && s.state_text == st;
    known = known || cur;
    w.sample("tsfleet_backend_state", {{"state", std::string(st)}}, cur ? 1 : 0);
  }
  if (s.daemon_up && !known)
    w.sample("tsfleet_backend_state", {{"state", s.state_text.empty() ? "unknown" : s.state_text}},
             1);

  w.family("tsfleet_health_warnings",
           "Number of health warnings tailscaled reports (Status.Health).", "gauge");
  w.sample("tsfleet_health_warnings", static_cast<double>(s.health.size()));

  if (s.daemon_up && s.self.key_expiry) {
    w.family("tsfleet_self_key_expiry_seconds",
             "Seconds until this node's key expires (negative: expired).", "gauge");
    w.sample("tsfleet_self_key_expiry_seconds", seconds_between(*s.self.key_expiry, in.now));
  }

  // Per-path counts.
  std::array<std::size_t, 4> per_path{};
  std::size_t online = 0;
  for (const auto& p : s.peers) {
    per_path[static_cast<std::size_t>(p.path)]++;
    online += p.online ? 1 : 0;
  }
  w.family("tsfleet_peers",
           "Number of peers by the path traffic to them takes (idle: no recent traffic).", "gauge");
  for (PeerPath path : {PeerPath::direct, PeerPath::derp, PeerPath::peer_relay, PeerPath::idle})
    w.sample("tsfleet_peers", {{"path", std::string(to_string(path))}},
             static_cast<double>(per_path[static_cast<std::size_t>(path)]));
  w.family("tsfleet_peers_online", "Number of peers connected to the control plane.", "gauge");
  w.sample("tsfleet_peers_online", static_cast<double>(online));

  if (!s.peers.empty()) {
    w.family("tsfleet_peer_online", "Whether the peer is connected to the control plane.", "gauge");
    for (const auto& p : s.peers) w.sample("tsfleet_peer_online", peer_labels(p), p.online ? 1 : 0);
    w.family("tsfleet_peer_path",
             "The path traffic to the peer takes now: direct, derp, peer-relay or idle (always 1).",
             "gauge");
    for (const auto& p : s.peers) {
      Labels l = peer_labels(p);
      l.emplace_back("path", std::string(to_string(p.path)));
      w.sample("tsfleet_peer_path", l, 1);
    }
    w.family("tsfleet_peer_rx_bytes_total",
             "Bytes received from the peer (tailscaled's counter; resets with the daemon).",
             "counter");
    for (const auto& p : s.peers)
      w.sample("tsfleet_peer_rx_bytes_total", peer_labels(p), static_cast<double>(p.rx_bytes));
    w.family("tsfleet_peer_tx_bytes_total",
             "Bytes sent to the peer (tailscaled's counter; resets with the daemon).", "counter");
    for (const auto& p : s.peers)
      w.sample("tsfleet_peer_tx_bytes_total", peer_labels(p), static_cast<double>(p.tx_bytes));
    bool any_expiry = false;
    for (const auto& p : s.peers) any_expiry = any_expiry || p.key_expiry.has_value();
    if (any_expiry) {
      w.family("tsfleet_peer_key_expiry_seconds",
               "Seconds until the peer's node key expires (negative: expired).", "gauge");
      for (const auto& p : s.peers)
        if (p.key_expiry)
          w.sample("tsfleet_peer_key_expiry_seconds", peer_labels(p),
                   seconds_between(*p.key_expiry, in.now));
    }
  }

  if (in.expectations_configured) {
    w.family("tsfleet_expectation_met",
             "Whether an inventory host meets what its role expects of the live tailnet (check: "
             "present, online, "
             "direct).",
             "gauge");
    for (const auto& r : ex)
      w.sample("tsfleet_expectation_met", {{"host", r.host}, {"check", r.check}}, r.met ? 1 : 0);
  }

  auto counter = [&](const char* name, const char* help, std::uint64_t v) {
    w.family(name, help, "counter");
    w.sample(name, static_cast<double>(v));
  };
  counter("tsfleet_monitor_ticks_total", "Polls of the daemon monitor made.", c.ticks);
  counter("tsfleet_monitor_tick_failures_total",
          "Polls that failed (daemon unreachable or an error).", c.tick_failures);
  counter("tsfleet_monitor_restarts_total",
          "Restarts of tailscaled monitor attempted (--restart-after).", c.restarts);
  counter("tsfleet_monitor_restart_failures_total", "Restarts of tailscaled that failed.",
          c.restart_failures);
  counter("tsfleet_monitor_hook_runs_total", "Alert hook runs.", c.hook_runs);
  counter("tsfleet_monitor_hook_failures_total", "Alert hook runs that failed or timed out.",
          c.hook_failures);
  counter("tsfleet_monitor_hook_dropped_total",
          "Events not given to the alert hook because its queue was full.", c.hooks_dropped);
  w.family("tsfleet_monitor_events_total", "Events monitor reported, by kind.", "counter");
  for (const auto& [kind, n] : c.events)
    w.sample("tsfleet_monitor_events_total", {{"kind", kind}}, static_cast<double>(n));
  w.family("tsfleet_monitor_bus_connected", "Whether monitor's watch-ipn-bus stream is open.",
           "gauge");
  w.sample("tsfleet_monitor_bus_connected", c.bus_connected ? 1 : 0);
  w.family("tsfleet_monitor_last_tick_timestamp_seconds", "Unix time of the last poll.", "gauge");
  w.sample(
      "tsfleet_monitor_last_tick_timestamp_seconds",
      static_cast<double>(
          std::chrono::duration_cast<std::chrono::seconds>(s.taken.time_since_epoch()).count()));

  if (s.daemon_up && !s.usermetrics.empty()) {
    auto parsed = prom::parse_text(s.usermetrics);
    prom::write_families(w, parsed.families, "tailscaled_", "tailscaled usermetric");
  }
  return w.take();
}

}  // namespace tsfleet::monitor
