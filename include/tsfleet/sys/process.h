#pragma once
// Running other programs (tailscale, systemctl, alert hooks, iperf3...) behind a small
// interface, so verbs can be unit-tested with a fake runner and integration-tested for real.
// Arguments are passed as argv words, never through a shell.
#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tsfleet::sys {

struct ProcessRequest {
  std::vector<std::string> argv;               // argv[0] is looked up in PATH
  std::optional<std::filesystem::path> cwd;
  std::map<std::string, std::string> env;      // added to (or overriding) the environment
  std::vector<std::string> unset_env;          // removed from the environment
  std::string stdin_data;                      // written to the child's stdin, then closed
  std::chrono::milliseconds timeout{60'000};   // the child is killed (SIGKILL) after this
};

struct ProcessResult {
  int exit_code = -1;      // the exit status; 128+N when killed by signal N
  bool timed_out = false;  // killed because the timeout passed
  std::string out;         // stdout
  std::string err;         // stderr
};

class ProcessRunner {
 public:
  virtual ~ProcessRunner() = default;
  // Runs the program and waits for it. Throws Error(io) when it cannot be started (not found,
  // not executable), naming the program.
  virtual ProcessResult run(const ProcessRequest& request) = 0;
};

// The real thing: posix_spawnp, pipes, poll, a kill on timeout.
class SystemProcessRunner final : public ProcessRunner {
 public:
  ProcessResult run(const ProcessRequest& request) override;
};

// Whether `name` is an executable on PATH (or an executable path).
bool program_on_path(const std::string& name);

}  // namespace tsfleet::sys
