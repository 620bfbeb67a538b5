#pragma once
// Clean shutdown: SIGINT and SIGTERM request a stop (through a self-pipe, so the handler does only
// async-signal-safe work); the previous handlers come back when the object goes away.
#include <atomic>
#include <stop_token>
#include <thread>

namespace tsfleet::monitor {

class StopOnSignals {
 public:
  explicit StopOnSignals(std::stop_source source);
  ~StopOnSignals();
  StopOnSignals(const StopOnSignals&) = delete;
  StopOnSignals& operator=(const StopOnSignals&) = delete;

  int signal_received() const { return signal_; }  // 0 when none

 private:
  std::stop_source source_;
  std::atomic<int> signal_{0};
  std::jthread thread_;
};

}  // namespace tsfleet::monitor
