#include "checks_support.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>

namespace tsfleet::doctor::detail {

Result make(const DoctorContext& c, std::string_view id, Outcome o, std::string file,
            std::string summary, std::string fix, std::string detail) {
  Result r;
  r.check = std::string(id);
  r.outcome = o;
  r.subject.file = std::move(file);
  r.subject.host = c.host;
  r.summary = std::move(summary);
  r.fix = std::move(fix);
  r.detail = std::move(detail);
  return r;
}

std::optional<std::string> read_text(const DoctorContext& c, std::string_view path,
                                     std::string* error) {
  try {
    return c.fs->read_file(path, 4 << 20);
  } catch (const Error& e) {
    if (error) *error = e.what();
    return std::nullopt;
  }
}

std::optional<long long> read_int(const DoctorContext& c, std::string_view path) {
  auto t = read_text(c, path);
  if (!t) return std::nullopt;
  return parse_sysctl_int(*t);
}

bool daemon_up(const DoctorContext& c) { return c.daemon.status.has_value(); }

Result daemon_skip(const DoctorContext& c, std::string_view id) {
  std::string why =
      !c.daemon.contacted ? c.daemon.not_contacted_why
      : c.daemon.failure
          ? "tailscaled did not answer (see the `daemon` check): is tailscaled running?"
          : "tailscaled gave no answer for this";
  return make(c, id, Outcome::skip, "tailscaled", "needs tailscaled: " + why);
}

Usage usage(const DoctorContext& c) {
  Usage u;
  auto add = [](std::string& why, const char* src) {
    if (why.find(src) == std::string::npos) why += (why.empty() ? "" : " and ") + std::string(src);
  };
  if (const auto& p = c.daemon.prefs) {
    if (!p->exit_node_id.empty() || !p->exit_node_ip.empty() || !p->auto_exit_node.empty()) {
      u.uses_exit_node = true;
      add(u.uses_why, "the daemon's prefs");
    }
    if (p->route_all) {
      u.accepts_routes = true;
      add(u.uses_why, "the daemon's prefs");
    }
    for (const auto& r : p->advertise_routes) {
      if (r == "0.0.0.0/0" || r == "::/0")
        u.offers_exit_node = true;
      else
        u.offers_routes = true;
      add(u.offers_why, "the daemon's prefs");
    }
  }
  if (c.daemon.status && c.daemon.status->exit_node_status) {
    u.uses_exit_node = true;
    add(u.uses_why, "the daemon's status");
  }
  if (const auto& p = c.plan) {
    if (p->prefs.exit_node) {
      u.uses_exit_node = true;
      add(u.uses_why, "the fleet file");
    }
    if (p->prefs.accept_routes) {
      u.accepts_routes = true;
      add(u.uses_why, "the fleet file");
    }
    if (p->roles.exit_node) {
      u.offers_exit_node = true;
      add(u.offers_why, "the fleet file");
    }
    if (p->roles.subnet_router) {
      u.offers_routes = true;
      add(u.offers_why, "the fleet file");
    }
  }
  return u;
}

std::string routing_features_value(const Usage& u) {
  if (u.router() && u.client()) return "both";
  if (u.router()) return "server";
  return "client";
}

const std::optional<DaemonProcess>& daemon_process(DoctorContext& c) {
  if (!c.process_cache) c.process_cache = find_daemon_process(*c.fs);
  return *c.process_cache;
}

std::string interface_name(DoctorContext& c, bool* userspace) {
  std::string name = "tailscale0";
  if (c.plan)
    name = c.plan->interface_name;
  else if (const auto& p = daemon_process(c)) {
    if (auto t = flag_value(p->argv, "tun"); t && !t->empty()) name = *t;
  }
  bool us = name == "userspace-networking";
  if (c.daemon.status && !c.daemon.status->tun) us = true;
  if (userspace) *userspace = us;
  return us && name == "userspace-networking" ? std::string("tailscale0") : name;
}

namespace {

std::optional<std::string> run_dump(DoctorContext& c, const std::vector<std::string>& argv) {
  if (!c.runner || !sys::program_on_path(argv[0])) return std::nullopt;
  try {
    sys::ProcessRequest req;
    req.argv = argv;
    req.timeout = std::chrono::seconds(5);
    auto r = c.runner->run(req);
    if (r.exit_code != 0) {
      spdlog::debug("doctor: {} exited {}: {}", argv[0], r.exit_code, r.err);
      return std::nullopt;
    }
    return r.out;
  } catch (const Error& e) {
    spdlog::debug("doctor: {}: {}", argv[0], e.what());
    return std::nullopt;
  }
}

}  // namespace

std::optional<RulesetHints> ruleset(DoctorContext& c, std::string* source) {
  if (!c.iptables_cache) {
    if (c.live) {
      bool root = ::geteuid() == 0;
      c.iptables_cache = root ? run_dump(c, {"iptables-save"}) : std::nullopt;
      c.nft_cache = root ? run_dump(c, {"nft", "list", "ruleset"}) : std::nullopt;
    } else {
      c.iptables_cache = read_text(c, "/.tsfleet/iptables-save.txt");
      c.nft_cache = read_text(c, "/.tsfleet/nft-ruleset.txt");
    }
  }
  RulesetHints h;
  std::vector<std::string> from;
  if (*c.iptables_cache) {
    parse_ruleset(**c.iptables_cache, h);
    from.push_back(c.live ? "iptables-save" : "/.tsfleet/iptables-save.txt");
  }
  if (*c.nft_cache) {
    parse_ruleset(**c.nft_cache, h);
    from.push_back(c.live ? "nft list ruleset" : "/.tsfleet/nft-ruleset.txt");
  }
  if (!h.recognised) return std::nullopt;
  if (source) *source = join(from, " + ");
  return h;
}

std::map<std::string, std::string> unit_environment(const DoctorContext& c,
                                                    std::vector<std::string>* files) {
  std::map<std::string, std::string> env;
  std::vector<std::string> paths = {"/etc/systemd/system/tailscaled.service"};
  for (const auto& f : c.fs->list_dir("/etc/systemd/system/tailscaled.service.d"))
    if (f.size() > 5 && f.substr(f.size() - 5) == ".conf")
      paths.push_back("/etc/systemd/system/tailscaled.service.d/" + f);
  for (const auto& p : paths) {
    if (auto t = read_text(c, p)) {
      apply_unit_environment(*t, env);
      if (files) files->push_back(p);
    }
  }
  return env;
}

bool resolved_present(const DoctorContext& c) {
  return c.fs->exists("/etc/systemd/resolved.conf") || c.fs->exists("/run/systemd/resolve");
}

std::string warning_line(const localapi::HealthWarning& w) {
  if (!w.title.empty() && !w.text.empty()) return w.title + ": " + w.text;
  return w.text.empty() ? w.title : w.text;
}

std::string join(const std::vector<std::string>& v, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) out += (i ? std::string(sep) : std::string()) + v[i];
  return out;
}

}  // namespace tsfleet::doctor::detail
