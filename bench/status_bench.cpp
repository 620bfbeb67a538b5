// The `tsfleet status` code path on a file: read the status JSON, parse it with the streaming
// parser and join it with the embedded default fleet's plans (status::summarize_status_json),
// release the input, then render the text table (or with --json the JSON report) as
// `tsfleet status` does. Prints one line of
// what it found on stdout and its own timing on stderr; run it under /usr/bin/time -v for the
// peak RSS (bench/run-status-bench does).
//
//   status_bench [--json] STATUS.json
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "tsfleet/error.h"
#include "tsfleet/fleet.h"
#include "tsfleet/plan.h"
#include "tsfleet/status/fleet_status.h"

int main(int argc, char** argv) {
  bool as_json = argc == 3 && std::string(argv[1]) == "--json";
  if (argc != 2 && !as_json) {
    std::fprintf(stderr, "usage: status_bench [--json] STATUS.json\n");
    return 2;
  }
  const char* file = argv[argc - 1];
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  std::string text;
  {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::perror(file);
      return 1;
    }
    in.seekg(0, std::ios::end);
    text.resize(static_cast<std::size_t>(in.tellg()));
    in.seekg(0);
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
  }
  auto t1 = Clock::now();
  try {
    tsfleet::Fleet fleet = tsfleet::load_default_fleet();
    auto plans = tsfleet::plan(fleet);
    tsfleet::status::FleetStatus s = tsfleet::status::summarize_status_json(text, plans, {}, file);
    std::string().swap(text);  // as `tsfleet status` drops the response body
    auto t2 = Clock::now();
    std::string out = as_json ? tsfleet::status::render_status_json_text(s, fleet.source)
                              : tsfleet::status::render_status_text(s, false);
    auto t3 = Clock::now();
    auto ms = [](auto a, auto b) { return std::chrono::duration<double, std::milli>(b - a).count(); };
    std::printf("%s: %zu peers, %zu rows, BackendState %s, ok %s\n", file, s.peer_count, s.rows.size(),
                s.backend_state.c_str(), s.ok() ? "true" : "false");
    std::fprintf(stderr, "read %.1f ms, parse+summary %.1f ms, render %s %.1f ms (%zu bytes)\n", ms(t0, t1), ms(t1, t2),
                 as_json ? "json" : "text", ms(t2, t3), out.size());
  } catch (const tsfleet::Error& e) {
    std::fprintf(stderr, "status_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
