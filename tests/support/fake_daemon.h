#pragma once
// Runs tests/support/fake_tailscaled as a real subprocess serving the LocalAPI on a Unix socket in
// a TempDir, from a scenario file (docs/testing.md), and drives it at run time through its
// control socket. The process is killed when the object goes away.
#include <sys/types.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "support/helpers.h"

namespace tsfleet::testing {

// The fake-tailscaled executable, the directory holding the fake `tailscale` CLI (put it first in
// PATH), and tests/fixtures/scenarios.
std::filesystem::path fake_tailscaled_binary();
std::filesystem::path fake_tailscale_cli_dir();
std::filesystem::path scenario_dir();
// scenario_dir() / name (e.g. "running.json").
std::filesystem::path scenario(const std::string& name);

struct FakeDaemonOptions {
  std::optional<std::string> state;  // overrides the scenario's "state" (e.g. "Stopped")
  bool socket_absent =
      false;  // start without the LocalAPI socket (bring it up with set_socket_present)
};

class FakeDaemon {
 public:
  // Starts the daemon and waits (up to 10 s) until its control socket accepts connections and,
  // unless socket_absent, the LocalAPI socket exists. Throws std::runtime_error with its log
  // otherwise.
  explicit FakeDaemon(const std::filesystem::path& scenario_file, FakeDaemonOptions options = {});
  ~FakeDaemon();  // SIGTERM, then SIGKILL after 2 s; waits for the process
  FakeDaemon(const FakeDaemon&) = delete;
  FakeDaemon& operator=(const FakeDaemon&) = delete;

  const std::filesystem::path& socket() const { return socket_; }           // the LocalAPI socket
  const std::filesystem::path& control_socket() const { return control_; }  // always present
  const std::filesystem::path& dir() const { return dir_.path(); }
  pid_t pid() const { return pid_; }
  std::string log() const;  // the daemon's stdout+stderr so far

  // One request to the control API (/fake/v0/<path>); returns the parsed JSON reply (null if not
  // JSON). Throws std::runtime_error on transport errors or non-2xx.
  nlohmann::json control(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr);

  // Sets a fault for `endpoint` ("status", "prefs", "ping", "watch-ipn-bus", ... or "*" for all):
  // {"mode":
  // "hang"|"slow"|"dribble"|"http"|"malformed"|"truncated"|"short_body"|"reset"|"close"|"restart",
  //  "delay_ms": N, "status": N, "body": "...", "count": N, "down_ms": N}
  void set_fault(const std::string& endpoint, nlohmann::json fault);
  void clear_faults();
  void set_state(const std::string& state);
  std::string state();
  // The LocalAPI socket goes away for down_ms, then comes back (returns at once; see
  // wait_for_socket).
  void restart(int down_ms);
  void set_socket_present(bool present);
  // Waits until the LocalAPI socket accepts connections (true) or `timeout_ms` passes (false).
  bool wait_for_socket(int timeout_ms = 5000) const;
  // Every LocalAPI request received so far: [{"method","target","headers":{lower-case name:
  // value}}].
  nlohmann::json requests();
  // Sends a raw Notify object to every watch-ipn-bus stream.
  void notify(const nlohmann::json& n);

  void stop();  // stops the process now (idempotent)

 private:
  TempDir dir_;
  std::filesystem::path socket_, control_, log_;
  pid_t pid_ = -1;
};

}  // namespace tsfleet::testing
