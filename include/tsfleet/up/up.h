#pragma once
// `tsfleet up`: what the NixOS autoconnect unit tries to do (nixpkgs#204622), as a program.
//
//   NoState / Starting        wait (with the deadline) until tailscaled settles
//   Running, prefs as planned nothing to do
//   Running, persistent drift `tailscale set` with the drifted flags only (never an `up` that
//                             fails on "requires mentioning all non-default flags", nixpkgs#509367)
//   Running, login-time drift (tags, login server) explain; `tailscale up --force-reauth` only
//                             when asked
//   NeedsLogin / NeedsMachineAuth
//                             `tailscale up` with the plan's flags and `--auth-key=file:PATH`
//   Stopped                   `tailscale up` with the plan's flags (a logged-in node needs no key;
//                             if it turns out to be logged out, the key is used)
// then waits for Running and applies what needs the netmap (the exit node) with `tailscale set`.
// The key is only ever passed as `file:PATH`: it never appears in argv, logs or output.
#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tsfleet/fleet.h"
#include "tsfleet/localapi/client.h"
#include "tsfleet/plan.h"
#include "tsfleet/sys/process.h"

namespace tsfleet::up {

inline constexpr int kUpSchemaVersion = 1;

// Durations are read with tsfleet::parse_duration (tsfleet/time_text.h).
// 61500ms -> "61.5s"; whole seconds -> "61s" (what `tailscale up --timeout=` accepts).
std::string format_duration(std::chrono::milliseconds d);

// The inventory host this machine is: `host` when given (unknown: Error(usage) with a
// suggestion), else the plan whose inventory name or prefs.hostname equals the first label of
// `system_hostname` (case-insensitive); none: Error(usage) naming the hostname and the hosts.
const HostPlan& select_host(const Fleet& fleet, const std::vector<HostPlan>& plans,
                            const std::optional<std::string>& host, std::string_view system_hostname);

// Refuses a key file that cannot be used, without ever reading the key into an error:
// missing, empty, unreadable or not a regular file -> Error(auth) naming the path; readable by
// group or others (mode & 077) -> Error(auth) with the fix `chmod 600 PATH`.
void check_auth_key_file(const std::filesystem::path& path);

// One preference that differs between the daemon and the plan.
struct PrefDiff {
  std::string flag;     // e.g. "accept-routes"
  std::string current;  // as a flag value ("true", "10.0.0.0/24,...", "" for unset)
  std::string desired;
  bool login_time = false;  // advertise-tags, login-server: only a re-authentication changes them
};

struct PrefsComparison {
  std::vector<PrefDiff> persistent;   // fixable with `tailscale set`
  std::vector<PrefDiff> login;        // need `tailscale up --force-reauth`
  std::vector<std::string> set_args;  // the `tailscale set` words for `persistent`
  std::vector<std::string> notes;     // what could not be compared (an exit node not in the tailnet)
  bool empty() const { return persistent.empty() && login.empty(); }
};

// Compares the daemon's prefs with the plan. `peers` resolves the exit node's name (DNSName first
// label or HostName) to its ID/IPs; without it an exit node by name cannot be compared (a note).
// Unmanaged prefs (hostname/operator/login server not in the fleet file) are not compared.
PrefsComparison compare_prefs(const DesiredPrefs& desired, const localapi::Prefs& current,
                              const localapi::Status* peers);

// The `tailscale up` words (without the key and --timeout) for logging in with the plan:
// login_flags() + persistent_flags() except --exit-node (it needs the netmap, so it is set once
// Running), plus an explicit mention of every setting whose current value is not the default and
// that those flags leave out, so that `up` never fails on "requires mentioning all non-default
// flags": managed settings get the plan's value, settings the fleet file does not manage keep the
// daemon's (each listed in `notes`).
struct UpWords {
  std::vector<std::string> words;
  std::vector<std::string> notes;
  bool exit_node_deferred = false;
};
UpWords up_words(const DesiredPrefs& desired, const localapi::Prefs& current);

struct UpOptions {
  std::optional<std::filesystem::path> socket;         // --socket (passed on to tailscale too)
  std::string tailscale = "tailscale";                  // --tailscale PATH
  std::optional<std::filesystem::path> auth_key_file;  // --auth-key-file (else the plan's secret path)
  bool dry_run = false;
  bool force_reauth = false;
  std::chrono::milliseconds timeout{60'000};  // the whole run's deadline
};

struct UpReport {
  std::string host;
  std::string state_before, state_after;
  // "none" | "set" | "login" | "start" | "reauth" | "reauth-needed"
  std::string action = "none";
  std::vector<std::vector<std::string>> commands;  // run (or, with dry_run, that would run)
  std::vector<std::string> states_seen;            // BackendState transitions observed
  std::vector<PrefDiff> changes;
  std::vector<std::string> messages;  // what the user should know (printed on stdout)
  bool dry_run = false;
  bool complete = true;  // false: something the plan asks for was left undone (login-time drift)
};

// Runs `tsfleet up` for `plan`. `api` serves the reads; `watch_api` (optional, a separate
// connection) follows watch-ipn-bus while `tailscale up` runs, to report state transitions and
// the daemon's ErrMessage. Throws Error: daemon (4), auth (7: key missing, too readable,
// rejected, expired), timeout (8: not Running before the deadline, including a device waiting
// for an admin's approval), io (5: tailscale cannot be run).
UpReport run_up(const HostPlan& plan, const UpOptions& options, localapi::LocalApi& api,
                localapi::LocalApi* watch_api, sys::ProcessRunner& runner);

std::string render_up_text(const UpReport& r);
nlohmann::json render_up_json(const UpReport& r);

}  // namespace tsfleet::up
