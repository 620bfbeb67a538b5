#include "tsfleet/up/up.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <set>
#include <stop_token>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "tsfleet/error.h"
#include "tsfleet/redact.h"
#include "tsfleet/suggest.h"
#include "tsfleet/tailscale_flags.h"

namespace tsfleet::up {

namespace fs = std::filesystem;
using localapi::BackendState;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}

bool is_exit_route(const std::string& r) { return r == "0.0.0.0/0" || r == "::/0"; }

std::string sorted_csv(std::vector<std::string> v) {
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  return join(v, ",");
}

constexpr std::string_view kDefaultControl = "https://controlplane.tailscale.com";

std::string control_url(const localapi::Prefs& p) {
  if (p.control_url.empty() || p.control_url == "https://login.tailscale.com") return std::string(kDefaultControl);
  return p.control_url;
}

std::string b(bool v) { return v ? "true" : "false"; }

// The settings flags of `tailscale up` (tailscale-api.md §4.2) that the "mention all non-default
// flags" rule looks at, with their defaults on Linux and the daemon's current value.
struct Setting {
  std::string flag;
  std::string def;
  std::string current;
  std::optional<std::string> desired;  // nullopt: the fleet file does not manage it
  bool login_time = false;
};

std::string current_exit_node(const localapi::Prefs& p) {
  if (!p.auto_exit_node.empty()) return "auto:" + p.auto_exit_node;
  if (!p.exit_node_ip.empty()) return p.exit_node_ip;
  return p.exit_node_id;
}

std::vector<Setting> settings(const DesiredPrefs& d, const localapi::Prefs& c) {
  std::vector<std::string> routes;
  bool exit = false;
  for (const auto& r : c.advertise_routes) {
    if (is_exit_route(r)) exit = true;
    else routes.push_back(r);
  }
  std::vector<Setting> s;
  s.push_back({"accept-dns", "true", b(c.corp_dns), b(d.accept_dns)});
  s.push_back({"accept-routes", "false", b(c.route_all), b(d.accept_routes)});
  s.push_back({"advertise-exit-node", "false", b(exit), b(d.advertise_exit_node)});
  s.push_back({"advertise-routes", "", sorted_csv(routes), sorted_csv(d.advertise_routes)});
  s.push_back({"advertise-tags", "", sorted_csv(c.advertise_tags), sorted_csv(d.advertise_tags), true});
  s.push_back({"exit-node", "", current_exit_node(c), d.exit_node.value_or("")});
  s.push_back({"exit-node-allow-lan-access", "false", b(c.exit_node_allow_lan_access), b(d.exit_node_allow_lan_access)});
  s.push_back({"hostname", "", c.hostname, d.hostname.empty() ? std::nullopt : std::optional<std::string>(d.hostname)});
  s.push_back({"login-server", std::string(kDefaultControl), control_url(c), d.login_server, true});
  std::string nf = c.netfilter_mode == localapi::NetfilterMode::unknown ? std::to_string(c.netfilter_mode_raw)
                                                                        : std::string(localapi::to_string(c.netfilter_mode));
  s.push_back({"netfilter-mode", "on", nf, d.netfilter_mode});
  s.push_back({"snat-subnet-routes", "true", b(!c.no_snat), std::nullopt});
  s.push_back({"operator", "", c.operator_user, d.operator_user});
  s.push_back({"shields-up", "false", b(c.shields_up), std::nullopt});
  s.push_back({"ssh", "false", b(c.run_ssh), b(d.ssh)});
  s.push_back({"report-posture", "false", b(c.posture_checking), std::nullopt});
  return s;
}

std::string flag_name(const std::string& word) {
  auto w = split_flag_word(word);
  return w ? w->name : word;
}

// The word persistent_flags()/login_flags() use for `flag`, else an explicit --flag=value.
std::string word_for(const std::vector<std::string>& words, const std::string& flag, const std::string& value) {
  for (const auto& w : words)
    if (flag_name(w) == flag) return w;
  return "--" + flag + "=" + value;
}

// A peer answering to `name` (DNSName first label, then HostName).
const localapi::PeerStatus* find_peer(const localapi::Status& st, const std::string& name) {
  std::string want = lower(name);
  const localapi::PeerStatus* by_host = nullptr;
  for (const auto& [k, p] : st.peer) {
    std::string label = lower(std::string_view(p.dns_name).substr(0, p.dns_name.find('.')));
    if (!label.empty() && label == want) return &p;
    if (!by_host && lower(p.host_name) == want) by_host = &p;
  }
  return by_host;
}

std::string peer_name(const localapi::Status& st, const std::string& id_or_ip) {
  for (const auto& [k, p] : st.peer) {
    if (p.id == id_or_ip || std::find(p.tailscale_ips.begin(), p.tailscale_ips.end(), id_or_ip) != p.tailscale_ips.end()) {
      std::string label = p.dns_name.substr(0, p.dns_name.find('.'));
      return label.empty() ? p.host_name : label;
    }
  }
  return id_or_ip;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

std::string format_duration(milliseconds d) {
  if (d.count() % 1000 == 0) return fmt::format("{}s", d.count() / 1000);
  return fmt::format("{}ms", d.count());
}

const HostPlan& select_host(const Fleet& fleet, const std::vector<HostPlan>& plans,
                            const std::optional<std::string>& host, std::string_view system_hostname) {
  std::vector<std::string> names;
  for (const auto& p : plans) names.push_back(p.name);
  if (host) {
    for (const auto& p : plans)
      if (p.name == *host) return p;
    auto guess = closest_match(*host, names);
    throw Error(ErrorCategory::usage, fmt::format("--host {}: no such host in {}{}", *host, fleet.source,
                                                  guess ? fmt::format(" (did you mean {}?)", *guess) : ""));
  }
  std::string label = lower(system_hostname.substr(0, system_hostname.find('.')));
  for (const auto& p : plans)
    if (lower(p.name) == label || (!p.prefs.hostname.empty() && lower(p.prefs.hostname) == label)) return p;
  throw Error(ErrorCategory::usage,
              fmt::format("this machine's hostname is \"{}\" and no host in {} is called that (hosts: {}): pass --host NAME",
                          std::string(system_hostname), fleet.source, join(names, ", ")));
}

void check_auth_key_file(const fs::path& path) {
  const std::string p = path.string();
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) {
    int e = errno;
    if (e == ENOENT)
      throw Error(ErrorCategory::auth, fmt::format("auth key file {} does not exist: write the key there (mode 0600), or pass --auth-key-file PATH", p));
    throw Error(ErrorCategory::auth, fmt::format("auth key file {}: cannot access it: {}", p, std::strerror(e)));
  }
  if (!S_ISREG(st.st_mode))
    throw Error(ErrorCategory::auth, fmt::format("auth key file {} is not a regular file", p));
  if (st.st_mode & 077)
    throw Error(ErrorCategory::auth,
                fmt::format("auth key file {} is readable by {} (mode {:04o}): refusing to use it; run `chmod 600 {}` (and keep it owned by root)",
                            p, (st.st_mode & 070) ? ((st.st_mode & 007) ? "group and others" : "its group") : "others",
                            st.st_mode & 07777, p));
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    throw Error(ErrorCategory::auth, fmt::format("auth key file {} cannot be read: {} (run tsfleet up as root)", p, std::strerror(e)));
  }
  // Only whether it holds anything but whitespace; the bytes never leave this function.
  char buf[256];
  bool content = false;
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      throw Error(ErrorCategory::auth, fmt::format("auth key file {} cannot be read: {}", p, std::strerror(e)));
    }
    if (n == 0) break;
    for (ssize_t i = 0; i < n && !content; ++i)
      if (!std::isspace(static_cast<unsigned char>(buf[i]))) content = true;
    if (content) break;
  }
  ::close(fd);
  std::memset(buf, 0, sizeof buf);
  if (!content) throw Error(ErrorCategory::auth, fmt::format("auth key file {} is empty: write the auth key into it", p));
}

PrefsComparison compare_prefs(const DesiredPrefs& desired, const localapi::Prefs& current, const localapi::Status* peers) {
  PrefsComparison out;
  std::vector<std::string> plan_words = persistent_flags(desired);
  for (const auto& s : settings(desired, current)) {
    if (!s.desired) continue;
    if (s.flag == "exit-node") {
      const std::string& want = *s.desired;
      bool same;
      std::string cur = s.current;
      if (want.empty()) {
        same = cur.empty();
        if (peers && !cur.empty()) cur = peer_name(*peers, cur);
      } else if (want.rfind("auto:", 0) == 0) {
        same = cur == want;
      } else if (!peers) {
        out.notes.push_back(fmt::format("cannot check the exit node {} without the peer list", want));
        continue;
      } else if (const auto* p = find_peer(*peers, want)) {
        same = (!current.exit_node_id.empty() && current.exit_node_id == p->id) ||
               (!current.exit_node_ip.empty() &&
                std::find(p->tailscale_ips.begin(), p->tailscale_ips.end(), current.exit_node_ip) != p->tailscale_ips.end());
        if (!cur.empty()) cur = peer_name(*peers, cur);
      } else {
        out.notes.push_back(fmt::format("the exit node {} is not a peer of this node (yet): --exit-node is left as it is; run `tsfleet up` again once it has joined",
                                        want));
        continue;
      }
      if (same) continue;
      out.persistent.push_back({s.flag, cur, want, false});
      out.set_args.push_back(word_for(plan_words, s.flag, want));
      continue;
    }
    if (s.current == *s.desired) continue;
    PrefDiff d{s.flag, s.current, *s.desired, s.login_time};
    if (s.login_time) {
      out.login.push_back(d);
    } else {
      out.persistent.push_back(d);
      out.set_args.push_back(word_for(plan_words, s.flag, *s.desired));
    }
  }
  return out;
}

UpWords up_words(const DesiredPrefs& desired, const localapi::Prefs& current) {
  UpWords out;
  std::vector<std::string> words = login_flags(desired);
  for (const auto& w : persistent_flags(desired)) {
    if (flag_name(w) == "exit-node") {
      out.exit_node_deferred = true;
      continue;
    }
    words.push_back(w);
  }
  std::set<std::string> mentioned;
  for (const auto& w : words) mentioned.insert(flag_name(w));
  for (const auto& s : settings(desired, current)) {
    if (mentioned.count(s.flag) || s.current == s.def) continue;
    // Managed: say the plan's value (often the default) out loud, or `up` refuses. Not managed
    // (and the exit node, which is set once Running): keep what the daemon has.
    bool managed = s.desired.has_value() && s.flag != "exit-node";
    std::string value = managed ? *s.desired : s.current;
    words.push_back("--" + s.flag + "=" + value);
    if (!managed && s.flag != "exit-node")
      out.notes.push_back(fmt::format("keeping --{}={}, set outside the fleet file (add it there to manage it)", s.flag, value));
  }
  out.words = std::move(words);
  return out;
}

// ---------------------------------------------------------------------------------------------

namespace {

class Up {
 public:
  Up(const HostPlan& plan, const UpOptions& o, localapi::LocalApi& api, localapi::LocalApi* watch_api,
     sys::ProcessRunner& runner)
      : plan_(plan), o_(o), api_(api), watch_api_(watch_api), runner_(runner), deadline_(Clock::now() + o.timeout) {
    report_.host = plan.name;
    report_.dry_run = o.dry_run;
  }

  UpReport run() {
    localapi::Status st = settle();
    report_.state_before = st.backend_state_text;
    switch (st.backend_state) {
      case BackendState::running: running(); break;
      case BackendState::stopped: start(); break;
      case BackendState::needs_login:
      case BackendState::needs_machine_auth: login(st.backend_state); break;
      case BackendState::in_use_other_user:
        throw Error(ErrorCategory::daemon, "tailscaled is InUseOtherUser: another user owns the backend; run tsfleet up as that user or root");
      default:
        throw Error(ErrorCategory::daemon, fmt::format("tailscaled reports the unknown BackendState \"{}\": nothing was done",
                                                       st.backend_state_text));
    }
    if (report_.state_after.empty()) report_.state_after = o_.dry_run ? report_.state_before : current_state();
    return std::move(report_);
  }

 private:
  milliseconds remaining() const {
    auto left = std::chrono::duration_cast<milliseconds>(deadline_ - Clock::now());
    return left.count() > 0 ? left : milliseconds(0);
  }
  localapi::CallOptions call() const {
    auto left = remaining();
    if (left.count() <= 0) throw Error(ErrorCategory::timeout, deadline_text("a reply from tailscaled"));
    return localapi::CallOptions{std::min(left, milliseconds(10'000)), nullptr};
  }
  std::string deadline_text(const std::string& what) const {
    return fmt::format("gave up waiting for {} after {} (--timeout)", what, format_duration(o_.timeout));
  }

  void saw(const std::string& state) {
    std::lock_guard lk(mu_);
    if (!report_.states_seen.empty() && report_.states_seen.back() == state) return;
    report_.states_seen.push_back(state);
    spdlog::info("tailscaled: {}", state);
  }

  std::string current_state() { return api_.status_without_peers(call()).backend_state_text; }

  // Waits out NoState and Starting (PR #338210: never run `up` before the backend is ready).
  // Once a state is being waited out, running out of time (before or during the next status call)
  // says which state it was.
  localapi::Status settle() {
    std::string waiting;
    auto leave = [&] {
      return Error(ErrorCategory::timeout, deadline_text(fmt::format("tailscaled to leave {}", waiting)));
    };
    for (;;) {
      if (!waiting.empty() && remaining().count() <= 0) throw leave();
      localapi::Status st;
      try {
        st = api_.status_without_peers(call());
      } catch (const Error& e) {
        if (waiting.empty() || e.category() != ErrorCategory::timeout) throw;
        throw leave();
      }
      saw(st.backend_state_text);
      if (st.backend_state != BackendState::no_state && st.backend_state != BackendState::starting) return st;
      waiting = st.backend_state_text;
      std::this_thread::sleep_for(std::min(remaining(), milliseconds(100)));
    }
  }

  std::vector<std::string> argv(const std::string& verb, const std::vector<std::string>& words) const {
    std::vector<std::string> a{o_.tailscale};
    if (o_.socket) a.push_back("--socket=" + o_.socket->string());
    a.push_back(verb);
    a.insert(a.end(), words.begin(), words.end());
    return a;
  }

  // Runs tailscale (following watch-ipn-bus meanwhile); throws the classified error on failure.
  void run_tailscale(const std::vector<std::string>& a, const std::string& key_path) {
    report_.commands.push_back(a);
    spdlog::info("running: {}", join(a, " "));
    if (!sys::program_on_path(o_.tailscale))
      throw Error(ErrorCategory::io, fmt::format("{}: not found or not executable: install tailscale or pass --tailscale PATH", o_.tailscale));
    std::stop_source stop;
    std::thread watcher;
    std::atomic<bool> watching{false};
    if (watch_api_) {
      watcher = std::thread([&, token = stop.get_token()] {
        try {
          localapi::WatchOptions wo;
          wo.mask = localapi::notify_mask::initial_state;
          wo.stop = token;
          wo.connect_timeout = milliseconds(5'000);
          watch_api_->watch_ipn_bus(
              [&](const localapi::Notify& n) {
                watching = true;
                if (n.state) saw(std::string(localapi::to_string(*n.state)));
                if (n.err_message) {
                  std::lock_guard lk(mu_);
                  err_message_ = *n.err_message;
                }
                if (n.browse_to_url) spdlog::info("tailscaled asks for an interactive login at {}", *n.browse_to_url);
                return !token.stop_requested();
              },
              wo);
        } catch (const std::exception& e) {
          spdlog::debug("watch-ipn-bus ended: {}", e.what());
        }
      });
    }
    sys::ProcessRequest req;
    req.argv = a;
    req.timeout = remaining() + milliseconds(5'000);
    sys::ProcessResult res;
    try {
      res = runner_.run(req);
    } catch (...) {
      stop.request_stop();
      if (watcher.joinable()) watcher.join();
      throw;
    }
    stop.request_stop();
    if (watcher.joinable()) watcher.join();
    if (!res.err.empty()) spdlog::debug("{} said: {}", o_.tailscale, res.err);
    if (res.exit_code == 0 && !res.timed_out) return;
    classify_failure(a, res, key_path);
  }

  [[noreturn]] void classify_failure(const std::vector<std::string>& a, const sys::ProcessResult& res, const std::string& key_path) {
    std::string err = res.err;
    while (!err.empty() && std::isspace(static_cast<unsigned char>(err.back()))) err.pop_back();
    std::string verb;
    for (std::size_t i = 1; i < a.size() && verb.empty(); ++i)
      if (a[i].rfind("--", 0) != 0) verb = a[i];
    std::string cmd = fmt::format("`tailscale {}`", verb);
    std::string daemon_msg;
    {
      std::lock_guard lk(mu_);
      daemon_msg = err_message_;
    }
    auto has = [&](std::string_view s) { return err.find(s) != std::string::npos; };
    if (has("backend error") || has("invalid key") || !daemon_msg.empty()) {
      std::string why = !daemon_msg.empty() ? daemon_msg : err.substr(err.find("backend error") == std::string::npos ? 0 : err.find("backend error") + 15);
      bool expired = why.find("expired") != std::string::npos;
      throw Error(ErrorCategory::auth,
                  fmt::format("the control server {} the auth key in {}: {}: create a new auth key in the admin console (Settings, Keys), write it to {} and run tsfleet up again",
                              expired ? "says it has expired" : "rejected", key_path.empty() ? "(none)" : key_path, why,
                              key_path.empty() ? "the key file" : key_path));
    }
    if (has("reading auth key")) throw Error(ErrorCategory::auth, fmt::format("{} could not read the auth key file: {}", cmd, err));
    if (has("failed to connect to local tailscaled") || has("doesn't appear to be running"))
      throw Error(ErrorCategory::daemon, fmt::format("{} could not reach tailscaled: {}", cmd, err));
    if (has("access denied") || has("Access denied"))
      throw Error(ErrorCategory::auth, fmt::format("{} was refused by tailscaled: {}: run tsfleet up as root (or as the operator user)", cmd, err));
    if (res.timed_out || has("timeout waiting for Tailscale")) {
      std::string state = "(unknown)";
      try {
        state = api_.status_without_peers(localapi::CallOptions{milliseconds(3'000), nullptr}).backend_state_text;
      } catch (const Error&) {
      }
      throw_not_running(state);
    }
    if (has("requires mentioning all non-default flags"))
      throw Error(ErrorCategory::daemon, fmt::format("{} refused the flags (a setting tsfleet does not know about differs from its default): {}", cmd, err));
    throw Error(ErrorCategory::daemon, fmt::format("{} failed (exit {}): {}", cmd, res.exit_code, err.empty() ? "(no message)" : err));
  }

  [[noreturn]] void throw_not_running(const std::string& state) {
    if (state == "NeedsMachineAuth")
      throw Error(ErrorCategory::timeout,
                  deadline_text("Running") + ": the device is waiting for a tailnet admin to approve it; approve " + plan_.name +
                      " in the admin console (Machines), then run tsfleet up again");
    throw Error(ErrorCategory::timeout, deadline_text("Running") + fmt::format(": tailscaled is still {}", state));
  }

  // Polls until Running (the bus watcher reports the transitions on the way).
  void wait_running() {
    for (;;) {
      localapi::Status st = api_.status_without_peers(call());
      saw(st.backend_state_text);
      if (st.backend_state == BackendState::running) {
        report_.state_after = st.backend_state_text;
        return;
      }
      std::this_thread::sleep_for(std::min(remaining(), milliseconds(100)));
      if (remaining().count() <= 0) throw_not_running(st.backend_state_text);
    }
  }

  std::optional<std::string> key_path() const {
    if (o_.auth_key_file) return o_.auth_key_file->string();
    if (!plan_.secret.runtime_path.empty()) return plan_.secret.runtime_path;
    return std::nullopt;
  }

  std::string usable_key() const {
    auto k = key_path();
    if (!k)
      throw Error(ErrorCategory::auth,
                  fmt::format("host {} has no auth_key in the fleet file and no --auth-key-file was given: add one, or pass --auth-key-file PATH", plan_.name));
    check_auth_key_file(*k);
    return *k;
  }

  std::string timeout_word() const {
    auto left = remaining();
    auto secs = std::max<long long>(1, (left.count() + 999) / 1000);
    return fmt::format("--timeout={}s", secs);
  }

  // The full `up` with the plan's flags: login (with the key), start from Stopped, or re-auth.
  void up_with_flags(bool with_key, bool force_reauth) {
    localapi::Prefs cur = api_.prefs(call());
    UpWords w = up_words(plan_.prefs, cur);
    for (const auto& n : w.notes) report_.messages.push_back(n);
    std::vector<std::string> words = w.words;
    std::string kp;
    if (force_reauth) words.insert(words.begin(), "--force-reauth");
    if (with_key) {
      kp = usable_key();
      words.push_back("--auth-key=file:" + kp);
    }
    words.push_back(timeout_word());
    auto a = argv("up", words);
    if (o_.dry_run) {
      report_.commands.push_back(a);
      if (w.exit_node_deferred)
        report_.commands.push_back(argv("set", {"--exit-node=" + plan_.prefs.exit_node.value_or("")}));
      report_.messages.push_back(w.exit_node_deferred ? "dry run: nothing was changed; the exit node is set with `tailscale set` once Running"
                                                      : "dry run: nothing was changed");
      return;
    }
    run_tailscale(a, kp);
  }

  void login(BackendState state) {
    report_.action = "login";
    if (state == BackendState::needs_machine_auth)
      spdlog::info("tailscaled is NeedsMachineAuth: logging in again with the plan's flags; a tailnet admin must approve the device");
    up_with_flags(true, false);
    if (o_.dry_run) return;
    wait_running();
    after_running();
  }

  void start() {
    report_.action = "start";
    up_with_flags(false, false);  // Stopped: logged in, no key needed (nixpkgs#409899)
    if (o_.dry_run) return;
    std::string now = current_state();
    if (now == "NeedsLogin") {
      spdlog::info("tailscaled is logged out after all: logging in with the auth key");
      report_.action = "login";
      up_with_flags(true, false);
    }
    wait_running();
    after_running();
  }

  // Once Running: what needs the netmap (the exit node), and a check that the prefs stuck.
  void after_running() {
    bool need_peers = plan_.prefs.exit_node && plan_.prefs.exit_node->rfind("auto:", 0) != 0;
    localapi::Status peers;
    if (need_peers) peers = api_.status(call());
    PrefsComparison c = compare_prefs(plan_.prefs, api_.prefs(call()), need_peers ? &peers : nullptr);
    for (const auto& n : c.notes) report_.messages.push_back(n);
    if (!c.persistent.empty()) {
      for (const auto& d : c.persistent) report_.changes.push_back(d);
      run_tailscale(argv("set", c.set_args), "");
    }
    if (!c.login.empty()) {
      report_.complete = false;
      for (const auto& d : c.login)
        report_.messages.push_back(fmt::format("--{} is {} but the fleet file says {}", d.flag, d.current.empty() ? "(none)" : d.current,
                                               d.desired.empty() ? "(none)" : d.desired));
    }
    report_.state_after = current_state();
  }

  void running() {
    bool need_peers = plan_.prefs.exit_node && plan_.prefs.exit_node->rfind("auto:", 0) != 0;
    localapi::Status peers;
    if (need_peers) peers = api_.status(call());
    localapi::Prefs cur = api_.prefs(call());
    PrefsComparison c = compare_prefs(plan_.prefs, cur, need_peers ? &peers : nullptr);
    for (const auto& n : c.notes) report_.messages.push_back(n);
    report_.changes = c.persistent;
    for (const auto& d : c.login) report_.changes.push_back(d);

    if (!c.login.empty()) {
      std::vector<std::string> what;
      for (const auto& d : c.login)
        what.push_back(fmt::format("--{} is {} but the fleet file says {}", d.flag, d.current.empty() ? "(none)" : d.current,
                                   d.desired.empty() ? "(none)" : d.desired));
      if (o_.force_reauth) {
        report_.action = "reauth";
        for (const auto& w : what) report_.messages.push_back(w + ": re-authenticating (--force-reauth)");
        up_with_flags(true, true);
        if (o_.dry_run) return;
        wait_running();
        after_running();
        return;
      }
      report_.action = "reauth-needed";
      report_.complete = false;
      for (const auto& w : what)
        report_.messages.push_back(w + ": that only changes on login; run `tsfleet up --force-reauth` to re-authenticate (this needs a valid auth key)");
    }
    if (!c.persistent.empty()) {
      if (report_.action == "none") report_.action = "set";
      auto a = argv("set", c.set_args);
      if (o_.dry_run) {
        report_.commands.push_back(a);
        report_.messages.push_back("dry run: nothing was changed");
        return;
      }
      run_tailscale(a, "");
      localapi::Status again_peers;
      if (need_peers) again_peers = api_.status(call());
      PrefsComparison after = compare_prefs(plan_.prefs, api_.prefs(call()), need_peers ? &again_peers : nullptr);
      if (!after.persistent.empty())
        throw Error(ErrorCategory::daemon, fmt::format("`tailscale set` succeeded but --{} is still {} instead of {}",
                                                       after.persistent[0].flag, after.persistent[0].current, after.persistent[0].desired));
      return;
    }
    if (c.login.empty()) report_.messages.push_back("already Running with the planned preferences: nothing to do");
  }

  const HostPlan& plan_;
  const UpOptions& o_;
  localapi::LocalApi& api_;
  localapi::LocalApi* watch_api_;
  sys::ProcessRunner& runner_;
  Clock::time_point deadline_;
  UpReport report_;
  std::mutex mu_;
  std::string err_message_;
};

}  // namespace

UpReport run_up(const HostPlan& plan, const UpOptions& options, localapi::LocalApi& api, localapi::LocalApi* watch_api,
                sys::ProcessRunner& runner) {
  return Up(plan, options, api, watch_api, runner).run();
}

std::string render_up_text(const UpReport& r) {
  std::string out;
  std::string states = join(r.states_seen, " -> ");
  out += fmt::format("host {}: tailscaled was {}{}\n", r.host, r.state_before,
                     r.dry_run || states.empty() ? "" : fmt::format(" (seen: {})", states));
  for (const auto& d : r.changes)
    out += fmt::format("  {} --{}: {} -> {}{}\n", d.login_time ? "login-time" : "drift     ", d.flag,
                       d.current.empty() ? "(none)" : d.current, d.desired.empty() ? "(none)" : d.desired,
                       d.login_time ? " (needs re-authentication)" : "");
  for (const auto& c : r.commands) out += fmt::format("  {} {}\n", r.dry_run ? "would run:" : "ran:", join(c, " "));
  for (const auto& m : r.messages) out += "  " + m + "\n";
  if (!r.dry_run) out += fmt::format("now {}\n", r.state_after.empty() ? "(unknown)" : r.state_after);
  return redact(out);
}

nlohmann::json render_up_json(const UpReport& r) {
  nlohmann::json changes = nlohmann::json::array();
  for (const auto& d : r.changes)
    changes.push_back({{"flag", d.flag}, {"current", d.current}, {"desired", d.desired}, {"login_time", d.login_time}});
  nlohmann::json j = {{"schema_version", kUpSchemaVersion}, {"host", r.host},
                      {"state_before", r.state_before},   {"state_after", r.state_after},
                      {"action", r.action},               {"dry_run", r.dry_run},
                      {"complete", r.complete},           {"commands", r.commands},
                      {"states_seen", r.states_seen},     {"changes", changes},
                      {"messages", r.messages}};
  return nlohmann::json::parse(redact(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
}

}  // namespace tsfleet::up
