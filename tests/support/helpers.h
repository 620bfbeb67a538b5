#pragma once
// Test helpers shared by unit and integration tests: temporary directories, running real
// subprocesses (the tsfleet binary, nix-instantiate, promtool, just) and reading files.
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tsfleet::testing {

// A fresh directory under $TMPDIR, removed (recursively) when the object goes away.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

struct ProcessResult {
  int exit_code = -1;  // exit status, or 128+signal when killed by a signal
  std::string out;     // everything written to stdout
  std::string err;     // everything written to stderr
};

struct ProcessOptions {
  std::optional<std::filesystem::path> cwd;
  std::map<std::string, std::string> env;  // added to (or overriding) the parent's environment
  std::vector<std::string> unset_env;      // removed from the environment
  std::string stdin_data;                  // fed to the child's stdin, then closed
  int timeout_seconds = 120;               // the child is killed after this (a safety net)
};

// Options that run the child in `dir`.
inline ProcessOptions in_dir(const std::filesystem::path& dir) {
  ProcessOptions o;
  o.cwd = dir;
  return o;
}

// Runs argv[0] (looked up in PATH) with argv; waits for it; captures stdout and stderr.
ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// A child running in the background (argv[0] looked up in PATH), stdin /dev/null, stdout
// written to `log` (truncated first) and stderr to `err_log` (empty: to `log` as well). SIGTERM
// when the object goes away, SIGKILL after 2 s; always waited for. Throws std::runtime_error
// when it cannot be started.
class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, std::filesystem::path log,
                    std::filesystem::path err_log = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;
  int pid() const { return pid_; }
  // Whether it has not exited yet.
  bool running();
  // Sends `sig` and waits: the exit status, or 128+signal when a signal ended it.
  int stop(int sig);
  std::string log() const;      // what it wrote to stdout (and stderr, without err_log) so far
  std::string err_log() const;  // what it wrote to stderr so far, with err_log

 private:
  int pid_ = -1;
  bool reaped_ = false;
  std::filesystem::path log_, err_log_;
};

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, read, closed): TCP, or UDP
// with `udp`. Nothing listens there until the caller starts something.
std::uint16_t free_loopback_port(bool udp = false);

// Runs the tsfleet binary under test with the given arguments.
ProcessResult run_tsfleet(const std::vector<std::string>& args, const ProcessOptions& options = {});

std::string read_file(const std::filesystem::path& path);
void write_file(const std::filesystem::path& path, const std::string& content);

// The repository's source tree and the build tree.
std::filesystem::path source_dir();
std::filesystem::path binary_dir();

// Whether a program is on PATH (tests that need nix-instantiate, promtool... say so when absent).
bool have_program(const std::string& name);

}  // namespace tsfleet::testing
