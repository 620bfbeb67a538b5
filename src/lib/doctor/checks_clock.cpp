// The `clock` check: this machine's clock measured against an NTP server (SNTP, sntp.h), the
// servers the host is configured with (chrony, systemd-timesyncd, ntpd), tailscaled's clock
// warnings and timesyncd's synchronized marker.
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include "checks.h"
#include "checks_support.h"
#include "tsfleet/doctor/sntp.h"

namespace tsfleet::doctor::detail {

namespace {

bool about_clock(const localapi::HealthWarning& w) {
  std::string all = w.warnable_code + " " + w.title + " " + w.text;
  for (auto& ch : all) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return all.find("clock") != std::string::npos || all.find("time sync") != std::string::npos ||
         all.find("system time") != std::string::npos;
}

// The NTP servers this host is configured with, and which daemon uses them.
struct ConfiguredTime {
  std::string daemon;  // "chrony" | "systemd-timesyncd" | "ntpd" | ""
  std::vector<TimeServer> servers;
  std::vector<std::string> files;  // the files that named them
};

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char ch : s) {
    if (ch == ' ' || ch == '\t' || ch == '\r') {
      if (!cur.empty()) out.push_back(cur);
      cur.clear();
    } else {
      cur += ch;
    }
  }
  if (!cur.empty()) out.push_back(cur);
  return out;
}

// chronyd's `-f FILE` in a unit's ExecStart= (NixOS passes a file in the Nix store).
std::optional<std::string> config_flag(std::string_view unit) {
  std::optional<std::string> found;
  size_t pos = 0;
  while (pos < unit.size()) {
    size_t nl = unit.find('\n', pos);
    std::string_view line = unit.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? unit.size() : nl + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.substr(0, 10) != "ExecStart=") continue;
    auto w = split_words(line.substr(10));
    for (size_t i = 0; i + 1 < w.size(); ++i)
      if (w[i] == "-f") found = w[i + 1];
  }
  return found;
}

// chrony.conf and what it includes (confdir/sourcedir directories, include globs of the form
// DIR/PREFIX*SUFFIX), at most 32 files.
void read_chrony(const DoctorContext& c, const std::string& main, ConfiguredTime& out) {
  std::vector<std::string> queue = {main};
  std::set<std::string> seen;
  while (!queue.empty() && seen.size() < 32) {
    std::string path = queue.front();
    queue.erase(queue.begin());
    if (!seen.insert(path).second) continue;
    auto text = read_text(c, path);
    if (!text) continue;
    std::vector<std::string> includes;
    auto servers = parse_chrony_conf(*text, &includes);
    if (!servers.empty()) out.files.push_back(path);
    for (auto& s : servers)
      if (std::none_of(out.servers.begin(), out.servers.end(),
                       [&](const TimeServer& o) { return o.host == s.host && o.port == s.port; }))
        out.servers.push_back(std::move(s));
    for (const auto& inc : includes) {
      if (inc.empty() || inc.front() != '/') continue;
      size_t star = inc.find('*');
      if (star != std::string::npos) {
        size_t slash = inc.rfind('/', star);
        std::string dir = inc.substr(0, slash), prefix = inc.substr(slash + 1, star - slash - 1),
                    suffix = inc.substr(star + 1);
        for (const auto& f : c.fs->list_dir(dir))
          if (f.size() >= prefix.size() + suffix.size() && f.rfind(prefix, 0) == 0 &&
              f.compare(f.size() - suffix.size(), suffix.size(), suffix) == 0)
            queue.push_back(dir + "/" + f);
      } else if (auto info = c.fs->info(inc); info && info->type == sys::FileType::directory) {
        for (const auto& f : c.fs->list_dir(inc))
          if ((f.size() > 5 && f.substr(f.size() - 5) == ".conf") ||
              (f.size() > 8 && f.substr(f.size() - 8) == ".sources"))
            queue.push_back(inc + "/" + f);
      } else {
        queue.push_back(inc);
      }
    }
  }
}

ConfiguredTime configured_time(const DoctorContext& c) {
  ConfiguredTime out;
  // chrony: the unit's -f (NixOS: a file in the Nix store), else the distributions' paths.
  std::optional<std::string> chrony_conf;
  for (const char* unit :
       {"/etc/systemd/system/chronyd.service", "/etc/systemd/system/chrony.service",
        "/lib/systemd/system/chrony.service"})
    if (auto t = read_text(c, unit))
      if (auto f = config_flag(*t)) {
        chrony_conf = *f;
        break;
      }
  if (!chrony_conf)
    for (const char* f : {"/etc/chrony.conf", "/etc/chrony/chrony.conf"})
      if (c.fs->exists(f)) {
        chrony_conf = f;
        break;
      }
  if (chrony_conf) {
    read_chrony(c, *chrony_conf, out);
    if (!out.servers.empty()) {
      out.daemon = "chrony";
      return out;
    }
  }
  // systemd-timesyncd: timesyncd.conf, then its drop-ins in order; NTP= before FallbackNTP=.
  std::vector<std::string> ntp, fallback;
  std::vector<std::string> paths = {"/etc/systemd/timesyncd.conf"};
  for (const auto& f : c.fs->list_dir("/etc/systemd/timesyncd.conf.d"))
    if (f.size() > 5 && f.substr(f.size() - 5) == ".conf")
      paths.push_back("/etc/systemd/timesyncd.conf.d/" + f);
  for (const auto& p : paths)
    if (auto t = read_text(c, p)) {
      size_t before = ntp.size() + fallback.size();
      apply_timesyncd_conf(*t, ntp, fallback);
      if (ntp.size() + fallback.size() != before || t->find("NTP=") != std::string::npos)
        out.files.push_back(p);
    }
  for (const auto* list : {&ntp, &fallback})
    for (const auto& name : *list)
      if (auto s = parse_time_server(name))
        if (std::none_of(out.servers.begin(), out.servers.end(),
                         [&](const TimeServer& o) { return o.host == s->host; }))
          out.servers.push_back(*s);
  if (!out.servers.empty()) {
    out.daemon = "systemd-timesyncd";
    return out;
  }
  out.files.clear();
  // ntpd: /etc/ntp.conf has the same server/pool lines.
  if (auto t = read_text(c, "/etc/ntp.conf")) {
    out.servers = parse_chrony_conf(*t);
    if (!out.servers.empty()) {
      out.daemon = "ntpd";
      out.files.push_back("/etc/ntp.conf");
    }
  }
  return out;
}

std::string names(const std::vector<TimeServer>& servers, size_t max = 4) {
  std::vector<std::string> v;
  for (size_t i = 0; i < servers.size() && i < max; ++i) v.push_back(servers[i].text());
  if (servers.size() > max) v.push_back(fmt::format("and {} more", servers.size() - max));
  return join(v, ", ");
}

double seconds(std::chrono::nanoseconds d) { return static_cast<double>(d.count()) / 1e9; }

// The NixOS fix for a clock that is off or unsynchronized, for the daemon in use.
std::string sync_fix(const std::string& daemon, const std::string& server_hint) {
  std::string servers = fmt::format(
      "networking.timeServers = [ \"{}\" ];  # servers this host reaches on UDP 123 (both daemons "
      "use it)\n",
      server_hint);
  if (daemon == "chrony")
    return "services.chrony.enable = true;\n" + servers +
           "# now: sudo chronyc makestep (steps the clock at once); chronyc tracking shows the "
           "offset";
  if (daemon == "ntpd")
    return "services.timesyncd.enable = true;  # or services.chrony.enable = true; instead of "
           "services.ntp\n" +
           servers + "# now: sudo timedatectl set-ntp true; timedatectl timesync-status";
  return "services.timesyncd.enable = true;  # the NixOS default; or services.chrony.enable = "
         "true;\n" +
         servers +
         "# now: sudo timedatectl set-ntp true; timedatectl timesync-status shows the offset";
}

}  // namespace

std::vector<Result> check_clock(DoctorContext& c) {
  const char* id = "clock";
  const localapi::HealthWarning* ts_warning = nullptr;
  if (c.daemon.health)
    for (const auto& [code, w] : *c.daemon.health)
      if (about_clock(w)) {
        ts_warning = &w;
        break;
      }
  const std::string marker = "/run/systemd/timesync/synchronized";
  bool synchronized = c.fs->exists(marker);
  ConfiguredTime cfg = configured_time(c);

  // Which servers to ask, or why none.
  std::vector<TimeServer> ask;
  std::string not_asked;
  std::string configured = cfg.servers.empty() ? std::string()
                                               : fmt::format("{} ({} in {})", names(cfg.servers),
                                                             cfg.daemon, join(cfg.files, ", "));
  if (!c.ask_time_servers) {
    not_asked = "--time-server none";
  } else if (!c.time_servers.empty()) {
    ask = c.time_servers;
  } else if (!c.live) {
    not_asked = cfg.servers.empty()
                    ? "the snapshot configures none and no --time-server was given"
                    : fmt::format(
                          "the snapshot's servers, {}, measure this machine's clock, not the "
                          "snapshot's, so they are asked only with --time-server",
                          configured);
  } else if (cfg.servers.empty()) {
    not_asked =
        "none is configured (timesyncd.conf NTP=/FallbackNTP=, chrony.conf server/pool) and no "
        "--time-server was given";
  } else {
    for (size_t i = 0; i < cfg.servers.size() && i < clock_max_servers; ++i)
      ask.push_back(cfg.servers[i]);
  }

  if (!ask.empty()) {
    std::vector<std::string> errors;
    std::optional<SntpMeasurement> m;
    for (const auto& s : ask) {
      auto r = query_sntp(s, c.time_server_timeout);
      if (r.measurement) {
        m = r.measurement;
        break;
      }
      errors.push_back(r.error);
    }
    std::string from = c.time_servers.empty() ? " (configured: " + configured + ")" : "";
    if (!m) {
      std::string summary = fmt::format(
          "no NTP server answered, so the clock could not be measured: {}", join(errors, "; "));
      Outcome o = Outcome::warn;
      if (ts_warning) {
        o = Outcome::fail;
        summary += "; tailscaled reports a clock problem: " + warning_line(*ts_warning);
      }
      return {make(c, id, o, ask.front().text(), summary,
                   "# the servers asked did not answer: name ones this host reaches on UDP 123 (a "
                   "local router often serves NTP),\n"
                   "# or let UDP 123 out through the network's firewall\n" +
                       sync_fix(cfg.daemon, "NTP_SERVER"),
                   "asked " + names(ask) + from)};
    }
    auto abs_offset = m->offset < std::chrono::nanoseconds::zero() ? -m->offset : m->offset;
    double off = seconds(m->offset);
    std::string seen = fmt::format(
        "this clock is {:.3f} s {} {} (NTP offset {:+.3f} s, round trip {:.1f} ms, stratum {})",
        std::fabs(off), off >= 0 ? "behind" : "ahead of", m->server, off,
        seconds(m->delay) * 1000.0, m->stratum);
    Outcome o;
    std::string summary;
    if (abs_offset < clock_warn_offset) {
      o = Outcome::pass;
      summary = seen;
    } else if (abs_offset < clock_fail_offset) {
      o = Outcome::warn;
      summary = seen +
                ": more than a second off, so time sync is not keeping this clock (TLS and key "
                "expiry still work, logs across the fleet do not line up)";
    } else {
      o = Outcome::fail;
      summary = seen +
                ": a minute or more off; TLS certificates (the control server, DERP, logins "
                "through the identity provider) and key expiry are judged by this clock";
    }
    if (ts_warning) {
      o = Outcome::fail;
      summary += "; tailscaled reports a clock problem: " + warning_line(*ts_warning);
    }
    std::string hint = m->server.substr(0, m->server.rfind(':'));
    if (!hint.empty() && hint.front() == '[') hint = hint.substr(1, hint.size() - 2);
    bool port123 = m->server.size() > 4 && m->server.substr(m->server.size() - 4) == ":123";
    std::vector<std::string> detail;
    detail.push_back(fmt::format("answered by {} (reference {}{})", m->address, m->reference,
                                 m->leap == 1   ? ", leap second pending (61 s minute)"
                                 : m->leap == 2 ? ", leap second pending (59 s minute)"
                                                : ""));
    if (!errors.empty()) detail.push_back("before that: " + join(errors, "; "));
    if (!configured.empty() && !c.time_servers.empty())
      detail.push_back("configured: " + configured);
    detail.push_back(synchronized ? marker + " exists (timesyncd says it synchronized)"
                                  : marker + " is absent");
    return {make(c, id, o, m->server, summary,
                 o == Outcome::pass ? "" : sync_fix(cfg.daemon, port123 ? hint : "NTP_SERVER"),
                 join(detail, "; "))};
  }

  // No server asked: what tailscaled and timesyncd say.
  const std::string why = "no NTP server was asked: " + not_asked;
  const std::string fix = sync_fix(cfg.daemon, "NTP_SERVER");
  if (ts_warning)
    return {
        make(c, id, Outcome::fail, "tailscaled",
             "tailscaled reports a clock problem: " + warning_line(*ts_warning) + " (" + why + ")",
             fix)};
  if (synchronized)
    return {make(c, id, Outcome::pass, marker,
                 "systemd-timesyncd has synchronized the clock (" + why + ")")};
  if (c.daemon.health)
    return {make(c, id, Outcome::pass, "tailscaled",
                 "tailscaled reports no clock problem (" + why + ")")};
  return {make(c, id, Outcome::skip, "tailscaled",
               "no evidence either way: tailscaled did not answer, timesyncd has no synchronized "
               "marker, and " +
                   why)};
}

}  // namespace tsfleet::doctor::detail
