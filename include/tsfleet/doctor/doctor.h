#pragma once
// tsfleet doctor: one function per check (like `nix config check`), each returning Results
// (PASS/WARN/FAIL/SKIP) with what was seen and the NixOS fix. The checks read the system through
// a FileSystem with a root prefix (a snapshot or the live /), the daemon through what
// read_daemon() fetched once, and the inventory through the host's HostPlan, if any. No check
// aborts the run: a missing input is a SKIP (or a FAIL when its absence is the problem).
// docs/doctor.md describes every check.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/doctor/sntp.h"
#include "tsfleet/error.h"
#include "tsfleet/localapi/types.h"
#include "tsfleet/plan.h"
#include "tsfleet/report/result.h"
#include "tsfleet/sys/filesystem.h"
#include "tsfleet/sys/process.h"

namespace tsfleet::localapi {
class LocalApiClient;
}

namespace tsfleet::doctor {

// What tailscaled said, fetched once before the checks run.
struct DaemonFailure {
  ErrorCategory category = ErrorCategory::daemon;
  std::string message;
};

struct DaemonSnapshot {
  bool contacted = false;                // false: the daemon was not asked (see not_contacted_why)
  std::string not_contacted_why;         // e.g. "--root is a snapshot and no --socket was given"
  std::string socket;                    // the socket used or (when unreachable) the ones tried
  bool socket_exists = false;            // whether a socket file was found at `socket`
  std::optional<DaemonFailure> failure;  // GET status failed: nothing else is known
  std::optional<localapi::Status> status;
  std::optional<localapi::Prefs> prefs;
  std::optional<DaemonFailure> prefs_failure;
  // Health warnings by warnable code (watch-ipn-bus); when the bus gave none, Status.Health's
  // strings with synthetic codes "status-health-N".
  std::optional<std::map<std::string, localapi::HealthWarning>> health;
  std::optional<std::string> ip_forwarding_warning;  // check-ip-forwarding; "" is OK
  std::optional<bool> write_access;                  // check-prefs (changes nothing) answered
  std::string write_access_error;                    // the 403 text when it did not
};

// Asks the daemon for everything the checks use: status, prefs, health (first watch-ipn-bus
// message), check-ip-forwarding and whether this user may write (POST check-prefs with the
// current prefs, which validates and changes nothing). Never throws for daemon errors: they are
// recorded in the snapshot.
DaemonSnapshot read_daemon(localapi::LocalApiClient& client,
                           std::chrono::milliseconds timeout = std::chrono::milliseconds(5000));

// tailscaled as seen in /proc (the first process whose comm is "tailscaled").
struct DaemonProcess {
  int pid = 0;
  std::vector<std::string> argv;
  std::optional<std::map<std::string, std::string>> environ;  // nullopt: unreadable
};

struct DoctorContext {
  const sys::FileSystem* fs = nullptr;
  DaemonSnapshot daemon;
  sys::ProcessRunner* runner = nullptr;  // nullptr: run nothing (checks needing it SKIP)
  bool live = true;                      // the root is this machine's "/" (commands may run)
  std::optional<HostPlan> plan;          // this host in the inventory, if found
  std::string host;                      // the name results are about (hostname or --host)
  std::chrono::system_clock::time_point now = std::chrono::system_clock::now();
  std::chrono::hours key_expiry_warning{24 * 7};
  std::string user;  // who runs doctor (for the --operator fix); "" if unknown

  // The `clock` check measures this machine's clock against NTP servers: these (--time-server),
  // in turn until one answers; when empty, the servers the host is configured with, but only on
  // the live system (a snapshot's servers would measure this machine, not the snapshot's host).
  // ask_time_servers = false (--time-server none) asks no server at all.
  std::vector<TimeServer> time_servers;
  bool ask_time_servers = true;
  std::chrono::milliseconds time_server_timeout{2000};  // per server, name lookup included

  // Filled lazily by the checks (cached).
  std::optional<std::optional<DaemonProcess>> process_cache;
  std::optional<std::optional<std::string>> iptables_cache, nft_cache;
};

using CheckFn = std::vector<Result> (*)(DoctorContext&);

struct CheckInfo {
  std::string_view id;
  std::string_view title;
  std::string_view reads;  // what it looks at
  CheckFn run;
};

// The clock check's thresholds on |offset|: below clock_warn_offset PASS, below
// clock_fail_offset WARN, else FAIL (docs/doctor.md says why these).
inline constexpr std::chrono::seconds clock_warn_offset{1};
inline constexpr std::chrono::seconds clock_fail_offset{60};
// At most this many configured servers are asked (each within time_server_timeout).
inline constexpr std::size_t clock_max_servers = 3;

// Every check, in the order they run.
const std::vector<CheckInfo>& check_catalogue();
const CheckInfo* find_check(std::string_view id);

// Runs the checks whose ids are in `only` (all when empty; unknown ids are the caller's
// business), in catalogue order. An exception inside a check becomes a FAIL naming it.
std::vector<Result> run_checks(DoctorContext& ctx, const std::vector<std::string>& only = {});

// The exit code for a run: 1 (exit_code::findings) when any FAIL, or any WARN with `strict`;
// else 0.
int exit_code_for_results(const std::vector<Result>& results, bool strict);

// The host name of the system: /etc/hostname, else /proc/sys/kernel/hostname; "" if neither.
std::string system_hostname(const sys::FileSystem& fs);

// tailscaled in /proc, if running.
std::optional<DaemonProcess> find_daemon_process(const sys::FileSystem& fs);

}  // namespace tsfleet::doctor
