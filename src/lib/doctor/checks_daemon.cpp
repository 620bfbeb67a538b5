// Checks about tailscaled itself: reachable and logged in, socket permissions, state directory,
// key expiry, version skew, and the daemon's own health warnings (the clock is in
// checks_clock.cpp).
#include <fmt/format.h>

#include <algorithm>

#include "checks.h"
#include "checks_support.h"

namespace tsfleet::doctor::detail {

using localapi::BackendState;

std::vector<Result> check_daemon(DoctorContext& c) {
  const auto& d = c.daemon;
  const char* id = "daemon";
  if (!d.contacted)
    return {make(c, id, Outcome::skip, "tailscaled", "not asked: " + d.not_contacted_why)};
  const std::string start_fix =
      "services.tailscale.enable = true;\n"
      "# now: sudo systemctl start tailscaled; journalctl -u tailscaled -n 50 says why it stopped";
  if (d.failure) {
    if (d.failure->category == ErrorCategory::auth)
      return {make(c, id, Outcome::fail, d.socket,
                   "this user may not open tailscaled's socket: " + d.failure->message,
                   "services.tailscale.extraSetFlags = [ \"--operator=" +
                       (c.user.empty() ? "YOUR_USER" : c.user) +
                       "\" ];\n# or run: sudo tsfleet doctor")};
    if (!d.socket_exists)
      return {make(c, id, Outcome::fail, d.socket,
                   fmt::format("no tailscaled socket at {}: is tailscaled running?", d.socket),
                   start_fix, d.failure->message)};
    return {make(c, id, Outcome::fail, d.socket,
                 fmt::format("tailscaled does not answer on {}: is tailscaled running?", d.socket),
                 "# the socket is stale or the daemon hangs:\n# now: sudo systemctl restart "
                 "tailscaled; journalctl -u tailscaled -n 50",
                 d.failure->message)};
  }
  const auto& s = *d.status;
  std::string seen =
      fmt::format("tailscaled {} is {}", s.version.empty() ? "(version unknown)" : s.version,
                  s.backend_state_text.empty() ? "in an unknown state" : s.backend_state_text);
  switch (s.backend_state) {
    case BackendState::running:
      return {make(c, id, Outcome::pass, d.socket, seen)};
    case BackendState::needs_login:
      return {make(c, id, Outcome::fail, d.socket, seen + ": this node is not logged in",
                   "services.tailscale.authKeyFile = \"/run/secrets/tailscale-auth-key\";  # a "
                   "sops-nix/agenix secret\n"
                   "# now: tsfleet up (or sudo tailscale up)")};
    case BackendState::needs_machine_auth:
      return {make(
          c, id, Outcome::fail, d.socket, seen + ": an admin must approve this machine",
          "# approve it in the admin console (Machines), or log in with a pre-authorized key:\n"
          "services.tailscale.authKeyParameters.preauthorized = true;")};
    case BackendState::stopped:
      return {make(c, id, Outcome::fail, d.socket,
                   seen + ": `tailscale down` was run, so no traffic flows",
                   "# NixOS 25.05+ autoconnect runs `up` again in Stopped with "
                   "services.tailscale.authKeyFile set\n"
                   "# now: sudo tailscale up")};
    default:
      return {make(c, id, Outcome::warn, d.socket, seen + ": not Running yet",
                   "# wait a few seconds and run doctor again; if it stays so: journalctl -u "
                   "tailscaled -n 50")};
  }
}

std::vector<Result> check_socket_permission(DoctorContext& c) {
  const char* id = "socket-permission";
  const auto& d = c.daemon;
  std::string op =
      "services.tailscale.extraSetFlags = [ \"--operator=" +
      (c.user.empty() ? "YOUR_USER" : c.user) +
      "\" ];\n# now: sudo tailscale set --operator=$USER (or run tailscale and tsfleet with sudo)";
  if (d.failure && d.failure->category == ErrorCategory::auth)
    return {make(c, id, Outcome::fail, d.socket,
                 "cannot even read from tailscaled's socket (EACCES or HTTP 403)", op,
                 d.failure->message)};
  if (!daemon_up(c)) return {daemon_skip(c, id)};
  if (!d.write_access)
    return {make(c, id, Outcome::skip, d.socket,
                 "could not tell whether this user may change settings")};
  if (*d.write_access)
    return {make(c, id, Outcome::pass, d.socket,
                 "this user may read and change tailscaled's settings")};
  return {make(c, id, Outcome::warn, d.socket,
               "this user may read but not change tailscaled (HTTP 403): `tailscale up/set` and "
               "`tsfleet up` need root",
               op, d.write_access_error)};
}

std::vector<Result> check_state_dir(DoctorContext& c) {
  const char* id = "state-dir";
  std::string dir = "/var/lib/tailscale", file = "/var/lib/tailscale/tailscaled.state";
  if (const auto& p = daemon_process(c)) {
    if (auto s = flag_value(p->argv, "statedir"); s && !s->empty()) {
      dir = *s;
      file = dir + "/tailscaled.state";
    } else if (auto f = flag_value(p->argv, "state"); f && !f->empty() && f->front() == '/') {
      file = *f;
      dir = file.substr(0, file.rfind('/'));
    }
  }
  const std::string fix = fmt::format(
      "systemd.services.tailscaled.serviceConfig.StateDirectoryMode = \"0700\";\n"
      "# now: sudo chmod 0700 {} && sudo chmod 0600 {}",
      dir, file);
  auto di = c.fs->info(dir);
  if (!di) {
    if (daemon_up(c))
      return {make(
          c, id, Outcome::warn, dir,
          fmt::format("{} does not exist although tailscaled runs: it keeps state elsewhere", dir),
          "# tailscaled's --state/--statedir point elsewhere; doctor looked at the default")};
    return {
        make(c, id, Outcome::skip, dir,
             fmt::format("{} does not exist yet: systemd creates it when tailscaled first starts",
                         dir))};
  }
  if (di->type != sys::FileType::directory)
    return {
        make(c, id, Outcome::fail, dir,
             fmt::format("{} is not a directory, so tailscaled cannot start", dir),
             fmt::format("# now: sudo mv {0} {0}.bad && sudo systemctl restart tailscaled", dir))};
  std::vector<std::string> bad;
  if (di->mode & 022)
    bad.push_back(
        fmt::format("{} has mode {:04o}: others may replace tailscaled's state", dir, di->mode));
  if (c.live && di->uid != 0 && c.fs->info(file))
    bad.push_back(fmt::format("{} is owned by uid {}, not root", dir, di->uid));
  if (auto fi = c.fs->info(file)) {
    if (fi->mode & 077)
      bad.push_back(
          fmt::format("{} has mode {:04o}: it holds this node's private keys and must be 0600",
                      file, fi->mode));
  }
  if (!bad.empty()) return {make(c, id, Outcome::fail, dir, join(bad, "; "), fix)};
  return {make(c, id, Outcome::pass, dir,
               fmt::format("{} is private to tailscaled (mode {:04o})", dir, di->mode))};
}

std::vector<Result> check_key_expiry(DoctorContext& c) {
  const char* id = "key-expiry";
  if (!daemon_up(c)) return {daemon_skip(c, id)};
  const auto& s = *c.daemon.status;
  if (!s.has_self)
    return {make(c, id, Outcome::skip, "tailscaled",
                 "the daemon's status has no Self node (not logged in?)")};
  const std::string fix =
      "# tagged nodes do not expire: log in with a tagged auth key\n"
      "services.tailscale.authKeyFile = \"/run/secrets/tailscale-auth-key\";\n"
      "services.tailscale.extraUpFlags = [ \"--advertise-tags=tag:server\" ];\n"
      "# now: sudo tailscale up --force-reauth (or disable key expiry for this machine in the "
      "admin console)";
  if (s.self.expired)
    return {make(c, id, Outcome::fail, "tailscaled",
                 "this node's key has expired: it is cut off from the tailnet", fix)};
  if (s.self.key_expiry.empty() || s.self.key_expiry.substr(0, 4) == "0001")
    return {make(c, id, Outcome::pass, "tailscaled", "key expiry is disabled for this node")};
  auto t = parse_rfc3339(s.self.key_expiry);
  if (!t)
    return {
        make(c, id, Outcome::skip, "tailscaled",
             fmt::format("KeyExpiry \"{}\" is not a time tsfleet understands", s.self.key_expiry))};
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(c.now);
  auto left = *t - now;
  long days = static_cast<long>(std::chrono::duration_cast<std::chrono::hours>(left).count() / 24);
  if (left <= std::chrono::seconds(0))
    return {make(c, id, Outcome::fail, "tailscaled",
                 fmt::format("this node's key expired at {}", s.self.key_expiry), fix)};
  if (left < c.key_expiry_warning)
    return {make(c, id, Outcome::warn, "tailscaled",
                 fmt::format("this node's key expires at {} (in {} day{})", s.self.key_expiry, days,
                             days == 1 ? "" : "s"),
                 fix)};
  return {make(c, id, Outcome::pass, "tailscaled",
               fmt::format("the key expires at {} (in {} days)", s.self.key_expiry, days))};
}

std::vector<Result> check_version_skew(DoctorContext& c) {
  const char* id = "version-skew";
  if (!daemon_up(c)) return {daemon_skip(c, id)};
  std::string daemon = short_version(c.daemon.status->version);
  if (daemon.empty())
    return {make(c, id, Outcome::skip, "tailscaled", "the daemon did not say its version")};
  if (daemon == "1.98.0" || daemon == "1.98.1")
    return {
        make(c, id, Outcome::warn, "tailscaled",
             fmt::format("tailscaled {} breaks MagicDNS with systemd-resolved and NetworkManager "
                         "(nixpkgs#520715)",
                         daemon),
             "# update nixpkgs to a revision with tailscale 1.98.2 or later, or pin a good one:\n"
             "services.tailscale.package = pkgs.tailscale;  # from a nixpkgs with >= 1.98.2\n"
             "# now: nix flake update nixpkgs && sudo nixos-rebuild switch")};
  if (!c.runner || !c.live || !sys::program_on_path("tailscale"))
    return {make(c, id, Outcome::skip, "tailscale",
                 c.live ? "no `tailscale` CLI on PATH to compare with tailscaled " + daemon
                        : "the CLI of a snapshot cannot be run; tailscaled is " + daemon)};
  sys::ProcessResult r;
  try {
    sys::ProcessRequest req;
    req.argv = {"tailscale", "version"};
    req.timeout = std::chrono::seconds(5);
    r = c.runner->run(req);
  } catch (const Error& e) {
    return {make(c, id, Outcome::skip, "tailscale",
                 std::string("could not run `tailscale version`: ") + e.what())};
  }
  std::string cli = parse_cli_version(r.out);
  if (r.exit_code != 0 || cli.empty())
    return {make(c, id, Outcome::skip, "tailscale",
                 fmt::format("`tailscale version` exited {} without a version", r.exit_code))};
  if (cli != daemon)
    return {make(
        c, id, Outcome::warn, "tailscale",
        fmt::format(
            "the CLI is {} but tailscaled runs {}: the daemon was not restarted after an upgrade, "
            "or two tailscale packages are installed",
            cli, daemon),
        "# one package for both: do not add another tailscale to environment.systemPackages\n"
        "services.tailscale.package = pkgs.tailscale;\n"
        "# now: sudo systemctl restart tailscaled")};
  return {make(c, id, Outcome::pass, "tailscale",
               fmt::format("the CLI and tailscaled are both {}", cli))};
}

std::vector<Result> check_health(DoctorContext& c) {
  const char* id = "health";
  if (!daemon_up(c)) return {daemon_skip(c, id)};
  std::vector<Result> out;
  if (c.daemon.health) {
    for (const auto& [code, w] : *c.daemon.health) {
      bool bad = w.severity == "high" || w.impacts_connectivity;
      std::string summary = warning_line(w);
      if (summary.empty()) summary = "(no text)";
      Result r =
          make(c, id, bad ? Outcome::fail : Outcome::warn, "tailscaled",
               fmt::format("tailscaled warns{}: {}",
                           code.rfind("status-health-", 0) == 0 ? "" : " (" + code + ")", summary),
               "# what tailscaled logged around it: journalctl -u tailscaled -n 50\n"
               "# the warning clears by itself once the cause is fixed");
      if (!w.broken_since.empty()) r.detail = "since " + w.broken_since;
      out.push_back(std::move(r));
    }
  }
  if (out.empty())
    out.push_back(
        make(c, id, Outcome::pass, "tailscaled", "tailscaled reports no health warnings"));
  return out;
}

}  // namespace tsfleet::doctor::detail
