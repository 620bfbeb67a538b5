#include "tsfleet/monitor/hooks.h"

#include <spdlog/spdlog.h>

#include "tsfleet/error.h"
#include "tsfleet/redact.h"

namespace tsfleet::monitor {

HookRunner::HookRunner(sys::ProcessRunner& runner, HookOptions options)
    : runner_(runner),
      options_(std::move(options)),
      thread_([this](std::stop_token st) { work(st); }) {}

HookRunner::~HookRunner() {
  thread_.request_stop();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!queue_.empty())
    spdlog::warn("alert hook: {} queued event(s) not delivered because monitor is stopping",
                 queue_.size());
}

bool HookRunner::submit(std::string event_json) {
  {
    std::lock_guard lk(mu_);
    if (queue_.size() >= options_.queue_capacity) {
      ++dropped_;
      return false;
    }
    queue_.push_back(std::move(event_json));
  }
  cv_.notify_all();
  return true;
}

bool HookRunner::wait_idle(std::chrono::milliseconds timeout) {
  std::unique_lock lk(mu_);
  return cv_.wait_for(lk, timeout, [&] { return queue_.empty() && !busy_; });
}

void HookRunner::work(std::stop_token stop) {
  for (;;) {
    std::string item;
    {
      std::unique_lock lk(mu_);
      busy_ = false;
      cv_.notify_all();
      if (!cv_.wait(lk, stop, [&] { return !queue_.empty(); })) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    sys::ProcessRequest req;
    req.argv = options_.argv;
    req.stdin_data = std::move(item);
    req.timeout = options_.timeout;
    ++runs_;
    try {
      sys::ProcessResult r = runner_.run(req);
      if (r.timed_out) {
        ++failures_;
        spdlog::warn("alert hook {} was killed after {} ms", options_.argv.front(),
                     options_.timeout.count());
      } else if (r.exit_code != 0) {
        ++failures_;
        std::string err = r.err.substr(0, 500);
        spdlog::warn("alert hook {} exited {}{}{}", options_.argv.front(), r.exit_code,
                     err.empty() ? "" : ": ", redact(err));
      }
    } catch (const std::exception& e) {
      ++failures_;
      spdlog::warn("alert hook: {}", e.what());
    }
  }
}

}  // namespace tsfleet::monitor
