#pragma once
// Alert hooks: each event's JSON is handed to a command (argv words, never a shell) on its stdin.
// Hooks run one at a time on their own thread, so a slow hook never blocks the monitor loop; the
// queue is bounded (events beyond it are dropped and counted) and a hook that runs longer than
// its timeout is killed.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tsfleet/sys/process.h"

namespace tsfleet::monitor {

struct HookOptions {
  std::vector<std::string> argv;  // e.g. {"/etc/tsfleet/alert", "--slack"}
  std::chrono::milliseconds timeout{10'000};
  std::size_t queue_capacity = 64;
};

class HookRunner {
 public:
  HookRunner(sys::ProcessRunner& runner, HookOptions options);
  ~HookRunner();  // stops after the hook in progress; queued events are dropped (and logged)
  HookRunner(const HookRunner&) = delete;
  HookRunner& operator=(const HookRunner&) = delete;

  // Queues the event JSON; false (and counted as dropped) when the queue is full.
  bool submit(std::string event_json);
  // Waits until the queue is empty and no hook runs, or `timeout` passes; true when idle.
  bool wait_idle(std::chrono::milliseconds timeout);

  std::uint64_t runs() const { return runs_; }
  std::uint64_t failures() const { return failures_; }
  std::uint64_t dropped() const { return dropped_; }

 private:
  void work(std::stop_token stop);

  sys::ProcessRunner& runner_;
  HookOptions options_;
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::deque<std::string> queue_;
  bool busy_ = false;
  std::atomic<std::uint64_t> runs_{0}, failures_{0}, dropped_{0};
  std::jthread thread_;  // last: started after everything it uses
};

}  // namespace tsfleet::monitor
