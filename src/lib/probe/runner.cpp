#include "tsfleet/probe/runner.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "tsfleet/error.h"

namespace tsfleet::probe {

std::vector<Result> run_concurrently(
    std::vector<ProbeTask> tasks, int jobs,
    const std::function<void(std::size_t, std::size_t, const std::string&)>& progress) {
  std::vector<Result> results(tasks.size());
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex mu;
  auto worker = [&] {
    for (;;) {
      std::size_t i = next.fetch_add(1);
      if (i >= tasks.size()) return;
      Result r;
      try {
        r = tasks[i].run();
      } catch (const std::exception& e) {
        r.check = tasks[i].label;
        r.outcome = Outcome::fail;
        r.summary = e.what();
        r.detail = "layer: the probe itself could not run";
      }
      std::lock_guard lk(mu);
      results[i] = std::move(r);
      ++done;
      if (progress) progress(done, tasks.size(), tasks[i].label);
    }
  };
  std::size_t n = std::min<std::size_t>(tasks.size(), static_cast<std::size_t>(std::max(jobs, 1)));
  std::vector<std::thread> threads;
  threads.reserve(n);
  for (std::size_t i = 0; i < n; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace tsfleet::probe
