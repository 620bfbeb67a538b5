#include "tsfleet/probe/ping.h"

#include <fmt/format.h>

#include <thread>

#include "tsfleet/error.h"

namespace tsfleet::probe {

using Clock = std::chrono::steady_clock;

std::string_view to_string(PathKind k) noexcept {
  switch (k) {
    case PathKind::direct:
      return "direct";
    case PathKind::derp:
      return "derp";
    case PathKind::peer_relay:
      return "peer-relay";
    case PathKind::unreachable:
      return "unreachable";
    case PathKind::local:
      return "local";
    case PathKind::error:
      return "error";
  }
  return "error";
}

PingOutcome tailscale_ping(localapi::LocalApi& api, const std::string& ip, const PingOptions& o) {
  PingOutcome out;
  const auto deadline = Clock::now() + o.deadline;
  for (int i = 0; o.count == 0 || i < o.count; ++i) {
    auto now = Clock::now();
    if (out.sent > 0 && now + o.per_ping > deadline) break;  // a ping that could not finish in time
    auto per_ping =
        std::min(o.per_ping, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now));
    if (per_ping.count() <= 0) break;
    localapi::PingResult pr;
    ++out.sent;
    bool answered = false, timed_out = false;
    // A transport error talking to tailscaled (a connection refused while many probes connect at
    // once and its listen backlog is full, a daemon restart) is retried with a short backoff
    // (5, 10, 20, 40, 80 ms) before it counts.
    constexpr int kAttempts = 6;
    for (int attempt = 0; attempt < kAttempts && !answered && !timed_out; ++attempt) {
      try {
        pr = api.ping(ip, localapi::PingType::disco, o.size, {.timeout = per_ping});
        answered = true;
      } catch (const Error& e) {
        auto backoff = std::chrono::milliseconds(5 << attempt);
        if (e.category() == ErrorCategory::timeout) {
          timed_out = true;
        } else if (attempt + 1 == kAttempts || e.category() != ErrorCategory::daemon ||
                   Clock::now() + backoff > deadline) {
          out.path = PathKind::error;
          out.err = e.what();
          return out;
        } else {
          std::this_thread::sleep_for(backoff);
        }
      }
    }
    if (timed_out) {
      out.err = fmt::format("ping \"{}\" timed out", ip);
      continue;
    }
    if (!pr.err.empty()) {
      out.path = pr.is_local_ip ? PathKind::local : PathKind::error;
      out.err = pr.err;
      return out;
    }
    ++out.answered;
    out.latency_ms = pr.latency_seconds * 1000;
    out.node_name = pr.node_name;
    out.err.clear();
    // The CLI's order: peer relay, then DERP, then the direct endpoint.
    if (!pr.peer_relay.empty()) {
      out.path = PathKind::peer_relay;
      out.via = fmt::format("peer-relay({})", pr.peer_relay);
    } else if (pr.derp_region_id != 0 || !pr.derp_region_code.empty()) {
      out.path = PathKind::derp;
      out.via =
          fmt::format("DERP({})", pr.derp_region_code.empty() ? std::to_string(pr.derp_region_id)
                                                              : pr.derp_region_code);
    } else if (!pr.endpoint.empty()) {
      out.path = PathKind::direct;
      out.via = pr.endpoint;
    } else {
      out.path = PathKind::direct;  // a pong with no path fields (TSMP/ICMP style)
      out.via = "?";
    }
    if (out.path == PathKind::direct && o.until_direct) return out;
    bool last = o.count != 0 && i + 1 >= o.count;
    if (!last && o.relayed_gap.count() > 0) {
      auto until = std::min(Clock::now() + o.relayed_gap, deadline);
      std::this_thread::sleep_until(until);
    }
  }
  if (out.answered == 0) {
    out.path = PathKind::unreachable;
    if (out.err.empty()) out.err = "no reply";
  } else if (o.until_direct && out.path != PathKind::direct) {
    out.err = "direct connection not established";
  }
  return out;
}

Result ping_result(const std::string& peer, const std::string& ip, const PingOutcome& o,
                   bool expect_direct) {
  Result r;
  r.check = "ping";
  r.subject.host = peer;
  switch (o.path) {
    case PathKind::direct:
      r.outcome = Outcome::pass;
      r.summary = fmt::format("{} answers directly via {} in {:.0f} ms", ip, o.via, o.latency_ms);
      break;
    case PathKind::derp:
    case PathKind::peer_relay:
      r.outcome = expect_direct ? Outcome::fail : Outcome::warn;
      r.summary =
          fmt::format("{} answers only via {} in {:.0f} ms ({} of {} pings answered; {})", ip,
                      o.via, o.latency_ms, o.answered, o.sent, o.err.empty() ? "relayed" : o.err);
      r.detail = fmt::format(
          "layer: tailscale path (NAT traversal){}",
          expect_direct ? "\nthe fleet expects this router to be reachable directly" : "");
      r.fix =
          "check that UDP 41641 reaches this peer (services.tailscale.openFirewall = true;) and "
          "see the netcheck "
          "result for this host's NAT; `tailscale ping --verbose " +
          ip + "` shows the endpoints tried";
      break;
    case PathKind::unreachable:
      r.outcome = Outcome::fail;
      r.summary = fmt::format("{} did not answer {} disco ping(s): {}", ip, o.sent, o.err);
      r.detail =
          "layer: tailscale (no pong over any path: peer down, tailscaled stopped there, or ACLs)";
      r.fix = "on " + peer +
              ": systemctl status tailscaled; tailscale status; check the tailnet policy allows "
              "this host";
      break;
    case PathKind::local:
      r.outcome = Outcome::skip;
      r.summary = fmt::format("{} is this host's own address", ip);
      break;
    case PathKind::error:
      r.outcome = Outcome::fail;
      r.summary = fmt::format("ping {} failed: {}", ip, o.err);
      r.detail = "layer: tailscaled (LocalAPI)";
      r.fix = "tailscale status: is " + peer + " in this tailnet?";
      break;
  }
  return r;
}

}  // namespace tsfleet::probe
