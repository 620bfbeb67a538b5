// A fake `tailscale` CLI for tests: records its argv and environment, and talks to
// fake-tailscaled over the LocalAPI the way the real CLI does (tailscale-api.md §4): `up` reads
// `--auth-key=file:PATH`, checks the "mention all non-default flags" rule, opens watch-ipn-bus and
// POSTs start; `set` runs check-prefs then PATCH prefs; `status --json` proxies status.
//
// Environment:
//   FAKE_TAILSCALE_RECORD  append one JSON line {"argv":[…],"env":{…}} per run to this file
//   FAKE_TAILSCALE_SOCKET  the daemon socket when --socket is not given
//   FAKE_TAILSCALE_MAX_WAIT seconds `up` waits for Running when --timeout is 0 (default 20)
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tsfleet/error.h"
#include "tsfleet/localapi/client.h"

extern char** environ;

namespace {

using json = nlohmann::ordered_json;
using tsfleet::localapi::LocalApiClient;

struct Flag {
  std::string name;
  std::string value;
  bool has_value;
};

std::string getenv_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

void record(int argc, char** argv) {
  std::string path = getenv_or("FAKE_TAILSCALE_RECORD", "");
  if (path.empty()) return;
  json j;
  j["argv"] = json::array();
  for (int i = 0; i < argc; ++i) j["argv"].push_back(argv[i]);
  j["env"] = json::object();
  for (char** e = environ; *e; ++e) {
    std::string kv = *e;
    auto eq = kv.find('=');
    if (eq != std::string::npos) j["env"][kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::ofstream out(path, std::ios::app);
  out << j.dump() << "\n";
}

int fail(const std::string& msg) {
  std::cerr << msg << "\n";
  return 1;
}

bool parse_bool(const std::string& v, bool& out) {
  if (v == "true" || v == "1" || v == "t" || v == "TRUE" || v == "True") return out = true, true;
  if (v == "false" || v == "0" || v == "f" || v == "FALSE" || v == "False")
    return out = false, true;
  return false;
}

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ','))
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string join_csv(const json& arr) {
  std::string out;
  if (!arr.is_array()) return out;
  for (const auto& a : arr) {
    if (!a.is_string()) continue;
    if (!out.empty()) out += ",";
    out += a.get<std::string>();
  }
  return out;
}

// The settings flags of `up`/`set` and how they map to prefs.
const std::set<std::string> kBoolFlags{"accept-dns",
                                       "accept-routes",
                                       "advertise-exit-node",
                                       "exit-node-allow-lan-access",
                                       "snat-subnet-routes",
                                       "stateful-filtering",
                                       "shields-up",
                                       "ssh",
                                       "reset",
                                       "force-reauth",
                                       "json",
                                       "qr",
                                       "unattended",
                                       "report-posture",
                                       "advertise-connector",
                                       "webclient",
                                       "update-check",
                                       "auto-update"};
const std::set<std::string> kUpOnly{
    "auth-key",  "advertise-tags", "login-server", "reset",         "force-reauth", "timeout", "qr",
    "qr-format", "json",           "client-id",    "client-secret", "id-token",     "audience"};
const std::set<std::string> kSetOnly{"webclient", "update-check", "auto-update", "nickname",
                                     "relay-server-port"};
const std::set<std::string> kPrefless{
    "auth-key",    "force-reauth", "reset",     "qr",       "qr-format",     "json",    "timeout",
    "accept-risk", "host-routes",  "client-id", "audience", "client-secret", "id-token"};
const std::set<std::string> kAllFlags{"accept-dns",
                                      "accept-routes",
                                      "advertise-exit-node",
                                      "advertise-routes",
                                      "advertise-tags",
                                      "auth-key",
                                      "exit-node",
                                      "exit-node-allow-lan-access",
                                      "hostname",
                                      "login-server",
                                      "netfilter-mode",
                                      "snat-subnet-routes",
                                      "stateful-filtering",
                                      "operator",
                                      "shields-up",
                                      "ssh",
                                      "reset",
                                      "force-reauth",
                                      "timeout",
                                      "json",
                                      "qr",
                                      "qr-format",
                                      "accept-risk",
                                      "unattended",
                                      "report-posture",
                                      "advertise-connector",
                                      "nickname",
                                      "webclient",
                                      "update-check",
                                      "auto-update",
                                      "relay-server-port",
                                      "client-id",
                                      "client-secret",
                                      "id-token",
                                      "audience"};

// Parses --flag[=value] / --flag value / -flag. Returns an error text or "".
std::string parse_flags(const std::vector<std::string>& args, const std::string& verb,
                        std::map<std::string, std::string>& flags) {
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string a = args[i];
    if (a.rfind("-", 0) != 0) return "too many non-flag arguments: \"" + a + "\"";
    a = a.substr(a.rfind("--", 0) == 0 ? 2 : 1);
    std::string name = a, value;
    bool has = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      has = true;
    }
    bool allowed = kAllFlags.count(name) && !(verb == "set" && kUpOnly.count(name)) &&
                   !(verb == "up" && kSetOnly.count(name));
    if (!allowed) return "flag provided but not defined: -" + name;
    if (kBoolFlags.count(name)) {
      if (!has) value = "true";
      bool b;
      if (!parse_bool(value, b)) return "invalid boolean value \"" + value + "\" for -" + name;
      value = b ? "true" : "false";
    } else if (!has) {
      if (i + 1 >= args.size()) return "flag needs an argument: -" + name;
      value = args[++i];
    }
    flags[name] = value;
  }
  return "";
}

bool is_exit_route(const std::string& r) { return r == "0.0.0.0/0" || r == "::/0"; }

// The flag values implied by prefs (for the "non-default flags" rule and suggested command).
std::map<std::string, std::string> flags_of_prefs(const json& p) {
  std::map<std::string, std::string> f;
  auto b = [](bool v) { return std::string(v ? "true" : "false"); };
  f["accept-dns"] = b(p.value("CorpDNS", true));
  f["accept-routes"] = b(p.value("RouteAll", false));
  json routes = p.contains("AdvertiseRoutes") ? p["AdvertiseRoutes"] : json();
  bool exit = false;
  json plain = json::array();
  if (routes.is_array())
    for (const auto& r : routes) {
      if (!r.is_string()) continue;
      if (is_exit_route(r.get<std::string>()))
        exit = true;
      else
        plain.push_back(r);
    }
  f["advertise-exit-node"] = b(exit);
  f["advertise-routes"] = join_csv(plain);
  f["advertise-tags"] = join_csv(p.contains("AdvertiseTags") ? p["AdvertiseTags"] : json());
  std::string exit_node = p.value("ExitNodeIP", "");
  if (exit_node.empty()) exit_node = p.value("ExitNodeID", "");
  f["exit-node"] = exit_node;
  f["exit-node-allow-lan-access"] = b(p.value("ExitNodeAllowLANAccess", false));
  f["hostname"] = p.value("Hostname", "");
  f["login-server"] = p.value("ControlURL", "https://controlplane.tailscale.com");
  int nf = p.value("NetfilterMode", 2);
  f["netfilter-mode"] = nf == 0 ? "off" : nf == 1 ? "nodivert" : "on";
  f["snat-subnet-routes"] = b(!p.value("NoSNAT", false));
  f["operator"] = p.value("OperatorUser", "");
  f["shields-up"] = b(p.value("ShieldsUp", false));
  f["ssh"] = b(p.value("RunSSH", false));
  f["report-posture"] = b(p.value("PostureChecking", false));
  return f;
}

const std::map<std::string, std::string>& flag_defaults() {
  static const std::map<std::string, std::string> d{
      {"accept-dns", "true"},
      {"accept-routes", "false"},
      {"advertise-exit-node", "false"},
      {"advertise-routes", ""},
      {"advertise-tags", ""},
      {"exit-node", ""},
      {"exit-node-allow-lan-access", "false"},
      {"hostname", ""},
      {"login-server", "https://controlplane.tailscale.com"},
      {"netfilter-mode", "on"},
      {"snat-subnet-routes", "true"},
      {"operator", ""},
      {"shields-up", "false"},
      {"ssh", "false"},
      {"report-posture", "false"}};
  return d;
}

// Applies flags to a prefs object (for up: on top of defaults; for set: on top of the current).
std::string apply_flags(json& p, const std::map<std::string, std::string>& flags,
                        const json& status) {
  for (const auto& [name, v] : flags) {
    bool bv = v == "true";
    if (name == "accept-dns")
      p["CorpDNS"] = bv;
    else if (name == "accept-routes")
      p["RouteAll"] = bv;
    else if (name == "exit-node-allow-lan-access")
      p["ExitNodeAllowLANAccess"] = bv;
    else if (name == "hostname")
      p["Hostname"] = v;
    else if (name == "login-server")
      p["ControlURL"] = v;
    else if (name == "operator")
      p["OperatorUser"] = v;
    else if (name == "shields-up")
      p["ShieldsUp"] = bv;
    else if (name == "ssh")
      p["RunSSH"] = bv;
    else if (name == "report-posture")
      p["PostureChecking"] = bv;
    else if (name == "snat-subnet-routes")
      p["NoSNAT"] = !bv;
    else if (name == "stateful-filtering")
      p["NoStatefulFiltering"] = !bv;
    else if (name == "webclient")
      p["RunWebClient"] = bv;
    else if (name == "netfilter-mode") {
      if (v == "on")
        p["NetfilterMode"] = 2;
      else if (v == "nodivert")
        p["NetfilterMode"] = 1;
      else if (v == "off")
        p["NetfilterMode"] = 0;
      else
        return "invalid value --netfilter-mode=" + v;
    } else if (name == "advertise-tags") {
      json tags = json::array();
      for (auto t : split_csv(v)) tags.push_back(t.rfind("tag:", 0) == 0 ? t : "tag:" + t);
      p["AdvertiseTags"] = tags.empty() ? json() : tags;
    } else if (name == "exit-node") {
      p["ExitNodeIP"] = "";
      p["ExitNodeID"] = "";
      if (v.empty()) continue;
      bool is_ip = v.find_first_not_of("0123456789.:abcdef") == std::string::npos;
      if (is_ip) {
        p["ExitNodeIP"] = v;
        continue;
      }
      bool found = false;  // a base name: look it up in the peers
      if (status.contains("Peer") && status["Peer"].is_object())
        for (const auto& [k, peer] : status["Peer"].items()) {
          std::string dns = peer.value("DNSName", "");
          if (dns.substr(0, dns.find('.')) == v || peer.value("HostName", "") == v) {
            p["ExitNodeID"] = peer.value("ID", "");
            found = true;
          }
        }
      if (!found)
        return "invalid value \"" + v + "\" for --exit-node; must be IP or unique node name";
    }
  }
  // Routes: advertise-routes plus advertise-exit-node.
  if (flags.count("advertise-routes") || flags.count("advertise-exit-node")) {
    auto cur = flags_of_prefs(p);
    std::string routes_csv =
        flags.count("advertise-routes") ? flags.at("advertise-routes") : cur["advertise-routes"];
    bool exit = flags.count("advertise-exit-node") ? flags.at("advertise-exit-node") == "true"
                                                   : cur["advertise-exit-node"] == "true";
    json routes = json::array();
    for (const auto& r : split_csv(routes_csv)) {
      if (r.find('/') == std::string::npos)
        return "invalid IP address or CIDR prefix \"" + r + "\"";
      routes.push_back(r);
    }
    if (exit) {
      routes.push_back("0.0.0.0/0");
      routes.push_back("::/0");
    }
    p["AdvertiseRoutes"] = routes.empty() ? json() : routes;
  }
  return "";
}

std::string suggested_up(const std::map<std::string, std::string>& want) {
  std::string cmd = "tailscale up";
  for (const auto& [name, v] : want) {
    auto d = flag_defaults().find(name);
    if (d == flag_defaults().end() || d->second == v) continue;
    if (v == "true")
      cmd += " --" + name;
    else
      cmd += " --" + name + "=" + v;
  }
  return cmd;
}

std::string socket_from(const std::string& flag) {
  if (!flag.empty()) return flag;
  return getenv_or("FAKE_TAILSCALE_SOCKET", "/var/run/tailscale/tailscaled.sock");
}

const char* kNotRunning =
    "failed to connect to local tailscaled; it doesn't appear to be running (sudo systemctl start "
    "tailscaled ?)";

// Runs `fn`, turning a connection failure into the real CLI's message.
template <class Fn>
int with_daemon(Fn fn) {
  try {
    return fn();
  } catch (const tsfleet::Error& e) {
    std::string w = e.what();
    if (w.find("cannot connect to tailscaled") != std::string::npos) return fail(kNotRunning);
    // Show the daemon's own text where there is one (after "HTTP nnn: ").
    auto p = w.find("HTTP ");
    if (p != std::string::npos && w.find(": ", p) != std::string::npos)
      w = w.substr(w.find(": ", p) + 2);
    return fail(w);
  }
}

int cmd_status(LocalApiClient& c, const std::vector<std::string>& args) {
  bool as_json = false, peers = true, active = false;
  for (const auto& a : args) {
    if (a == "--json" || a == "-json" || a == "--json=true")
      as_json = true;
    else if (a == "--peers=false")
      peers = false;
    else if (a == "--active")
      active = true;
    else if (a == "--json=false")
      as_json = false;
    else
      return fail("flag provided but not defined: " + a);
  }
  return with_daemon([&] {
    auto r = c.request("GET", peers ? "status" : "status?peers=false");
    json s = json::parse(r.body, nullptr, false);
    if (s.is_discarded()) return fail("invalid status JSON from tailscaled");
    if (active && s.contains("Peer") && s["Peer"].is_object()) {
      json kept = json::object();
      for (const auto& [k, v] : s["Peer"].items())
        if (v.value("Active", false)) kept[k] = v;
      s["Peer"] = kept;
    }
    if (as_json) {
      std::cout << s.dump(2) << "\n";
      return 0;
    }
    std::string st = s.value("BackendState", "");
    if (st == "Stopped") return fail("Tailscale is stopped.");
    if (st == "NeedsLogin") {
      std::string url = s.value("AuthURL", "");
      return fail(url.empty() ? "Logged out." : "Logged out.\nLog in at: " + url);
    }
    if (st == "NeedsMachineAuth") return fail("Machine is not yet approved by tailnet admin.");
    if (st != "Running" && st != "Starting") return fail("unexpected state: " + st);
    auto row = [](const json& p) {
      std::string ip =
          p.contains("TailscaleIPs") && p["TailscaleIPs"].is_array() && !p["TailscaleIPs"].empty()
              ? p["TailscaleIPs"][0].get<std::string>()
              : "-";
      std::string dns = p.value("DNSName", "");
      std::string name =
          dns.empty() ? "(\"" + p.value("HostName", "") + "\")" : dns.substr(0, dns.find('.'));
      std::string state = "-";
      if (!p.value("Online", false))
        state = "offline";
      else if (p.value("Active", false)) {
        if (!p.value("PeerRelay", "").empty())
          state = "active; peer-relay " + p.value("PeerRelay", "");
        else if (!p.value("CurAddr", "").empty())
          state = "active; direct " + p.value("CurAddr", "");
        else
          state = "active; relay \"" + p.value("Relay", "") + "\"";
      } else
        state = "idle";
      if (p.value("ExitNode", false))
        state += "; exit node";
      else if (p.value("ExitNodeOption", false))
        state += "; offers exit node";
      std::cout << ip << "\t" << name << "\t-\t" << p.value("OS", "") << "\t" << state << "\n";
    };
    if (s.contains("Self")) row(s["Self"]);
    if (s.contains("Peer") && s["Peer"].is_object())
      for (const auto& [k, v] : s["Peer"].items()) row(v);
    if (s.contains("Health") && s["Health"].is_array() && !s["Health"].empty()) {
      std::cout << "\n# Health check:\n";
      for (const auto& h : s["Health"]) std::cout << "#     - " << h.get<std::string>() << "\n";
    }
    return 0;
  });
}

int cmd_set(LocalApiClient& c, const std::vector<std::string>& args) {
  std::map<std::string, std::string> flags;
  if (auto err = parse_flags(args, "set", flags); !err.empty()) return fail(err);
  return with_daemon([&] {
    json cur = json::parse(c.request("GET", "prefs").body);
    json status = json::parse(c.request("GET", "status").body);
    json next = cur;
    if (auto err = apply_flags(next, flags, status); !err.empty()) return fail(err);
    if (auto err = c.check_prefs(next.dump())) return fail(*err);
    json mp = json::object();
    for (const auto& [k, v] : next.items()) {
      if (cur.contains(k) && cur[k] == v) continue;
      mp[k] = v;
      mp[k + "Set"] = true;
    }
    if (mp.empty()) return 0;
    c.request("PATCH", "prefs", mp.dump());
    return 0;
  });
}

int cmd_down(LocalApiClient& c) {
  return with_daemon([&] {
    c.request("PATCH", "prefs", R"({"WantRunning":false,"WantRunningSet":true})");
    return 0;
  });
}

int cmd_up(LocalApiClient& c, const std::vector<std::string>& args) {
  std::map<std::string, std::string> flags;
  if (auto err = parse_flags(args, "up", flags); !err.empty()) return fail(err);
  std::string key;
  if (auto it = flags.find("auth-key"); it != flags.end()) {
    key = it->second;
    if (key.rfind("file:", 0) == 0) {
      std::string path = key.substr(5);
      std::ifstream in(path);
      if (!in)
        return fail("reading auth key from file: open " + path + ": no such file or directory");
      std::stringstream ss;
      ss << in.rdbuf();
      key = ss.str();
      key.erase(0, key.find_first_not_of(" \t\r\n"));
      key.erase(key.find_last_not_of(" \t\r\n") + 1);
    }
  }
  double timeout_s = 0;
  if (auto it = flags.find("timeout"); it != flags.end()) {
    std::string t = it->second;
    try {
      if (t.size() > 2 && t.substr(t.size() - 2) == "ms")
        timeout_s = std::stod(t.substr(0, t.size() - 2)) / 1000;
      else if (!t.empty() && t.back() == 's')
        timeout_s = std::stod(t.substr(0, t.size() - 1));
      else if (!t.empty() && t.back() == 'm')
        timeout_s = std::stod(t.substr(0, t.size() - 1)) * 60;
      else
        timeout_s = std::stod(t);
    } catch (...) {
      return fail("invalid value \"" + t + "\" for flag -timeout: parse error");
    }
  }
  if (timeout_s <= 0) timeout_s = std::stod(getenv_or("FAKE_TAILSCALE_MAX_WAIT", "20"));

  return with_daemon([&]() -> int {
    json status = json::parse(c.request("GET", "status").body);
    json cur = json::parse(c.request("GET", "prefs").body);
    std::string state = status.value("BackendState", "");
    bool logged_in = !cur.value("LoggedOut", true) && state != "NeedsLogin" && state != "NoState";
    bool simple_up = flags.empty() && logged_in;

    json next = cur;
    if (!simple_up) {
      // `up` flags are the complete desired settings: unmentioned ones take their defaults.
      std::map<std::string, std::string> want = flag_defaults();
      for (const auto& [n, v] : flags)
        if (!kPrefless.count(n)) want[n] = v;
      if (!flags.count("reset")) {
        auto have = flags_of_prefs(cur);
        bool mismatch = false;
        std::map<std::string, std::string> suggestion = want;
        for (const auto& [n, d] : flag_defaults()) {
          if (flags.count(n)) continue;
          if (have[n] != d) {
            mismatch = true;
            suggestion[n] = have[n];
          }
        }
        if (mismatch) {
          return fail(
              "Error: changing settings via 'tailscale up' requires mentioning all\n"
              "non-default flags. To proceed, either re-run your command with --reset or\n"
              "use the command below to explicitly mention the current value of\n"
              "all non-default settings:\n\n\t" +
              suggested_up(suggestion));
        }
      }
      json base = cur;
      std::map<std::string, std::string> all = want;
      for (const auto& [n, v] : flags)
        if (kPrefless.count(n) == 0) all[n] = v;
      if (auto err = apply_flags(base, all, status); !err.empty()) return fail(err);
      next = base;
    }
    next["WantRunning"] = true;
    if (auto err = c.check_prefs(next.dump())) return fail(*err);

    // Watch the bus before starting, like the real CLI, so no notification is missed.
    std::mutex mu;
    std::vector<tsfleet::localapi::Notify> seen;
    std::stop_source stop;
    std::atomic<bool> watch_ready{false};
    std::thread watcher([&] {
      try {
        tsfleet::localapi::WatchOptions wo;
        wo.mask = 0;
        wo.stop = stop.get_token();
        watch_ready = true;
        c.watch_ipn_bus(
            [&](const tsfleet::localapi::Notify& n) {
              std::lock_guard lk(mu);
              seen.push_back(n);
              return true;
            },
            wo);
      } catch (...) {
      }
    });
    while (!watch_ready) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the stream open

    int rc = 0;
    try {
      if (simple_up) {
        c.request("PATCH", "prefs", R"({"WantRunning":true,"WantRunningSet":true})");
      } else {
        json opts = {{"UpdatePrefs", next}};
        if (!key.empty()) opts["AuthKey"] = key;
        c.start(opts.dump());
        json st = json::parse(c.request("GET", "status").body);
        if (key.empty() && st.value("BackendState", "") == "NeedsLogin") c.login_interactive();
      }
      auto deadline = std::chrono::steady_clock::now() +
                      std::chrono::milliseconds(static_cast<long>(timeout_s * 1000));
      bool printed_url = false, printed_machine = false;
      for (;;) {
        {
          std::lock_guard lk(mu);
          for (const auto& n : seen) {
            if (n.err_message) {
              rc = fail("backend error: " + *n.err_message);
              break;
            }
            if (n.browse_to_url && !printed_url) {
              std::cerr << "\nTo authenticate, visit:\n\n\t" << *n.browse_to_url << "\n\n";
              printed_url = true;
            }
          }
        }
        if (rc) break;
        std::string now = json::parse(c.request("GET", "status").body).value("BackendState", "");
        if (now == "Running") {
          if (printed_url) std::cerr << "Success.\n";
          break;
        }
        if (now == "NeedsMachineAuth" && !printed_machine) {
          std::cerr << "\nTo approve your machine, visit (as "
                       "admin):\n\n\thttps://login.tailscale.com/admin/machines\n\n";
          printed_machine = true;
        }
        if (std::chrono::steady_clock::now() > deadline) {
          rc = fail(
              "timeout waiting for Tailscale service to enter a Running state; check health with "
              "\"tailscale status\"");
          break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    } catch (...) {
      stop.request_stop();
      watcher.join();
      throw;
    }
    stop.request_stop();
    watcher.join();
    return rc;
  });
}

}  // namespace

int main(int argc, char** argv) {
  record(argc, argv);
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string socket_flag;
  // Global flags come before the subcommand.
  while (!args.empty() && args[0].rfind("-", 0) == 0) {
    std::string a = args[0];
    args.erase(args.begin());
    if (a.rfind("--socket=", 0) == 0 || a.rfind("-socket=", 0) == 0)
      socket_flag = a.substr(a.find('=') + 1);
    else if ((a == "--socket" || a == "-socket") && !args.empty()) {
      socket_flag = args[0];
      args.erase(args.begin());
    } else if (a == "--version" || a == "-version") {
      args.insert(args.begin(), "version");
    } else {
      return fail("flag provided but not defined: " + a);
    }
  }
  if (args.empty()) return fail("tailscale: missing subcommand (up, set, down, status, version)");
  std::string verb = args[0];
  args.erase(args.begin());
  tsfleet::localapi::ClientOptions o;
  o.socket = socket_from(socket_flag);
  o.timeout = std::chrono::seconds(10);
  LocalApiClient c(o);
  if (verb == "version") {
    std::cout << "1.102.3\n  tailscale commit: 1a2b3c4d5 (fake)\n  go version: go1.25.0\n";
    return 0;
  }
  if (verb == "status") return cmd_status(c, args);
  if (verb == "up") return cmd_up(c, args);
  if (verb == "set") return cmd_set(c, args);
  if (verb == "down") return cmd_down(c);
  return fail("tailscale: unknown subcommand \"" + verb + "\"");
}
