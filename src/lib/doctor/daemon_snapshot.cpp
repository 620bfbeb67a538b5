// read_daemon(): everything doctor asks tailscaled, once, with failures recorded rather than
// thrown; plus finding tailscaled in /proc and the system's host name.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <stop_token>

#include "tsfleet/doctor/doctor.h"
#include "tsfleet/doctor/parsers.h"
#include "tsfleet/localapi/client.h"

namespace tsfleet::doctor {

namespace {

template <class Fn>
std::optional<DaemonFailure> attempt(const char* what, Fn fn) {
  try {
    fn();
    return std::nullopt;
  } catch (const Error& e) {
    spdlog::debug("doctor: {}: {}", what, e.what());
    return DaemonFailure{e.category(), e.what()};
  }
}

}  // namespace

DaemonSnapshot read_daemon(localapi::LocalApiClient& client, std::chrono::milliseconds timeout) {
  DaemonSnapshot d;
  d.contacted = true;
  localapi::CallOptions call;
  call.timeout = timeout;

  for (const auto& s : localapi::socket_candidates(client.options().socket)) {
    std::error_code ec;
    if (d.socket.empty()) d.socket = s.string();  // named when none exists: the first tried
    if (std::filesystem::exists(s, ec)) {
      d.socket_exists = true;
      d.socket = s.string();
      break;
    }
  }

  d.failure = attempt("status", [&] { d.status = client.status(call); });
  if (d.failure) return d;
  if (!client.socket_in_use().empty()) d.socket = client.socket_in_use().string();

  std::string prefs_body;
  d.prefs_failure = attempt("prefs", [&] {
    prefs_body = client.request("GET", "prefs", {}, call).body;
    d.prefs = localapi::parse_prefs(prefs_body, "GET /localapi/v0/prefs");
  });
  attempt("check-ip-forwarding",
          [&] { d.ip_forwarding_warning = client.check_ip_forwarding(call); });

  // Health: the first watch-ipn-bus message carries the whole health state with mask bit 128.
  auto bus = attempt("watch-ipn-bus", [&] {
    localapi::WatchOptions w;
    w.mask = localapi::notify_mask::initial_health_state | localapi::notify_mask::initial_state;
    w.connect_timeout = timeout;
    w.idle_timeout = timeout;
    client.watch_ipn_bus(
        [&](const localapi::Notify& n) {
          if (!n.health) return true;
          d.health = *n.health;
          return false;
        },
        w);
  });
  if (!d.health) {
    if (bus) spdlog::debug("doctor: no health state from watch-ipn-bus; using Status.Health");
    std::map<std::string, localapi::HealthWarning> h;
    int i = 0;
    for (const auto& text : d.status->health) {
      localapi::HealthWarning w;
      w.warnable_code = fmt::format("status-health-{}", ++i);
      w.severity = "medium";
      w.text = text;
      h[w.warnable_code] = w;
    }
    d.health = h;
  }

  // Write access: check-prefs validates the current prefs and changes nothing, but needs write.
  if (!prefs_body.empty()) {
    auto w = attempt("check-prefs", [&] { client.check_prefs(prefs_body, call); });
    if (!w)
      d.write_access = true;
    else if (w->category == ErrorCategory::auth) {
      d.write_access = false;
      d.write_access_error = w->message;
    }
  }
  return d;
}

std::optional<DaemonProcess> find_daemon_process(const sys::FileSystem& fs) {
  for (const auto& name : fs.list_dir("/proc")) {
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string base = "/proc/" + name;
    try {
      auto comm = fs.read_file(base + "/comm", 256);
      if (!comm || parse_hostname(*comm) != "tailscaled") continue;
    } catch (const Error&) {
      continue;
    }
    DaemonProcess p;
    p.pid = std::stoi(name.substr(0, 9));
    try {
      if (auto c = fs.read_file(base + "/cmdline", 1 << 16)) p.argv = parse_cmdline(*c);
    } catch (const Error&) {
    }
    try {
      if (auto e = fs.read_file(base + "/environ", 1 << 20)) p.environ = parse_environ(*e);
    } catch (const Error&) {
      // Only root (or tailscaled's own user) may read another process's environment.
    }
    return p;
  }
  return std::nullopt;
}

std::string system_hostname(const sys::FileSystem& fs) {
  for (const char* path : {"/etc/hostname", "/proc/sys/kernel/hostname"}) {
    try {
      if (auto t = fs.read_file(path, 4096)) {
        std::string h = parse_hostname(*t);
        if (!h.empty()) return h;
      }
    } catch (const Error&) {
    }
  }
  return "";
}

}  // namespace tsfleet::doctor
