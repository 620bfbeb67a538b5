#pragma once
// Runs probes concurrently, at most `jobs` at a time. Each probe bounds its own time (every probe
// function takes a deadline), so the whole run takes about as long as the slowest probe when
// jobs >= probes, not their sum.
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "tsfleet/report/result.h"

namespace tsfleet::probe {

struct ProbeTask {
  std::string label;            // "ping p620", for progress
  std::function<Result()> run;  // exceptions become a FAIL result naming the label
};

// Results in task order. `progress(done, total, label)` is called (serialised) after each task.
std::vector<Result> run_concurrently(
    std::vector<ProbeTask> tasks, int jobs,
    const std::function<void(std::size_t, std::size_t, const std::string&)>& progress = {});

}  // namespace tsfleet::probe
