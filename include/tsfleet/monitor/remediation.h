#pragma once
// Optional remediation, as the seed's health timer does: restart tailscaled after N consecutive
// failed ticks (daemon unreachable or BackendState not Running), with exponential backoff
// between attempts and a cap per unhealthy episode.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "tsfleet/sys/process.h"

namespace tsfleet::monitor {

struct RemediationOptions {
  int restart_after = 0;  // N consecutive failed ticks; 0 disables remediation
  int max_restarts = 3;   // restarts per unhealthy episode; then monitor gives up until healthy
  std::string systemctl = "systemctl";
  std::string unit = "tailscaled.service";
  std::chrono::milliseconds timeout{60'000};  // for the systemctl call
};

// What the remediator did on a tick.
struct RemediationAction {
  enum class Kind { restarted, restart_failed, gave_up } kind = Kind::restarted;
  int attempt = 0;     // 1-based within the episode
  std::string detail;  // systemctl's exit status / stderr, or why it gave up
};

class Remediator {
 public:
  Remediator(sys::ProcessRunner& runner, RemediationOptions options);

  // Called once per scheduled tick. A healthy tick ends the episode (counters reset). The k-th
  // restart of an episode (k = 1, 2, …) happens after restart_after * 2^(k-1) consecutive failed
  // ticks since the previous one; after max_restarts, one gave_up action, then nothing until a
  // healthy tick.
  std::optional<RemediationAction> on_tick(bool failed);

  bool enabled() const { return options_.restart_after > 0; }
  int consecutive_failures() const { return streak_; }

 private:
  sys::ProcessRunner& runner_;
  RemediationOptions options_;
  int streak_ = 0;
  int attempts_ = 0;
  bool gave_up_ = false;
};

}  // namespace tsfleet::monitor
