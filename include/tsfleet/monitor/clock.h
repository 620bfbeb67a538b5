#pragma once
// The wall clock behind an interface, so unit tests can fake the time stamped on events and the
// "key expires in N days" arithmetic; plus RFC 3339 formatting and parsing (Go's time.Time JSON).
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "tsfleet/time_text.h"

namespace tsfleet::monitor {

using tsfleet::TimePoint;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual TimePoint now() const = 0;
};

class SystemClock final : public Clock {
 public:
  TimePoint now() const override { return std::chrono::system_clock::now(); }
};

// A clock that only moves when told to (unit tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint t) : t_(t) {}
  TimePoint now() const override { return t_; }
  void set(TimePoint t) { t_ = t; }
  void advance(std::chrono::system_clock::duration d) { t_ += d; }

 private:
  TimePoint t_;
};

// RFC 3339 (tsfleet/time_text.h), for monitor's code.
using tsfleet::format_rfc3339;
using tsfleet::parse_rfc3339;

// Durations ("14d", "1h30m", "500ms") are read with tsfleet::parse_duration.
using tsfleet::parse_duration;

// 1209600 s -> "14d", 5400 s -> "1h30m", 0.25 s -> "250ms".
std::string format_duration(std::chrono::milliseconds d);

}  // namespace tsfleet::monitor
