#include "tsfleet/monitor/remediation.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "tsfleet/redact.h"

namespace tsfleet::monitor {

Remediator::Remediator(sys::ProcessRunner& runner, RemediationOptions options)
    : runner_(runner), options_(std::move(options)) {}

std::optional<RemediationAction> Remediator::on_tick(bool failed) {
  if (!enabled()) return std::nullopt;
  if (!failed) {
    streak_ = 0;
    attempts_ = 0;
    gave_up_ = false;
    return std::nullopt;
  }
  ++streak_;
  // restart_after, then twice that, four times... (capped so the shift cannot overflow).
  long long needed = static_cast<long long>(options_.restart_after) << std::min(attempts_, 20);
  if (streak_ < needed) return std::nullopt;
  if (attempts_ >= options_.max_restarts) {
    if (gave_up_) return std::nullopt;
    gave_up_ = true;
    return RemediationAction{
        RemediationAction::Kind::gave_up, attempts_,
        fmt::format("{} restart(s) of {} did not help; not restarting again until it is healthy",
                    attempts_, options_.unit)};
  }
  ++attempts_;
  streak_ = 0;
  sys::ProcessRequest req;
  req.argv = {options_.systemctl, "restart", options_.unit};
  req.timeout = options_.timeout;
  RemediationAction a;
  a.attempt = attempts_;
  try {
    sys::ProcessResult r = runner_.run(req);
    if (r.exit_code == 0 && !r.timed_out) {
      a.kind = RemediationAction::Kind::restarted;
      a.detail = fmt::format("{} restart {}: ok", options_.systemctl, options_.unit);
    } else {
      a.kind = RemediationAction::Kind::restart_failed;
      std::string err = r.err.substr(0, 300);
      while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
      a.detail = r.timed_out
                     ? fmt::format("{} restart {} timed out", options_.systemctl, options_.unit)
                     : fmt::format("{} restart {} exited {}{}{}", options_.systemctl, options_.unit,
                                   r.exit_code, err.empty() ? "" : ": ", redact(err));
    }
  } catch (const std::exception& e) {
    a.kind = RemediationAction::Kind::restart_failed;
    a.detail = redact(e.what());
  }
  spdlog::info("remediation: {}", a.detail);
  return a;
}

}  // namespace tsfleet::monitor
