#include "support/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <exception>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace tsfleet::testing {

namespace {

constexpr const char* kPrefix = "tsft-";

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& w : v) s += (s.empty() ? "" : " ") + w;
  return s;
}

ProcessResult must(const std::vector<std::string>& argv) {
  ProcessOptions o;
  o.timeout_seconds = 30;
  auto r = run_process(argv, o);
  if (r.exit_code != 0)
    throw std::runtime_error("`" + join(argv) + "` failed (" + std::to_string(r.exit_code) +
                             "): " + r.err);
  return r;
}

// Deletes namespaces of earlier runs whose process is gone (a crash or SIGKILL skipped cleanup).
void sweep_stale() {
  static std::atomic<bool> done{false};
  if (done.exchange(true)) return;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/var/run/netns", ec)) {
    std::string n = e.path().filename().string();
    if (n.rfind(kPrefix, 0) != 0) continue;
    pid_t pid = static_cast<pid_t>(std::atol(n.c_str() + std::strlen(kPrefix)));
    if (pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM)) continue;
    run_process({"ip", "netns", "delete", n});
  }
}

}  // namespace

std::optional<std::string> netns_unavailable() {
  if (::geteuid() != 0) return "needs root (network namespaces); CI runs the tests as root";
  if (!have_program("ip")) return "needs iproute2's `ip`";
  try {
    Netns probe("check");
  } catch (const std::exception& e) {
    return std::string("cannot create a network namespace: ") + e.what();
  }
  return std::nullopt;
}

Netns::Netns(const std::string& tag) {
  sweep_stale();
  static std::atomic<int> counter{0};
  name_ = std::string(kPrefix) + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
          "-" + tag;
  must({"ip", "netns", "add", name_});
  try {
    ip({"link", "set", "lo", "up"});
    // No IPv6 duplicate address detection: a fresh link-local address stays tentative for about
    // a second, and until then neighbour discovery (so IPv6 forwarding) does not work.
    auto r = exec({"sysctl", "-q", "-w", "net.ipv6.conf.all.accept_dad=0",
                   "net.ipv6.conf.default.accept_dad=0"});
    if (r.exit_code != 0) throw std::runtime_error("sysctl accept_dad in " + name_ + ": " + r.err);
  } catch (...) {
    run_process({"ip", "netns", "delete", name_});
    throw;
  }
}

Netns::~Netns() { run_process({"ip", "netns", "delete", name_}); }

void Netns::ip(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"ip", "-n", name_};
  argv.insert(argv.end(), args.begin(), args.end());
  must(argv);
}

ProcessResult Netns::exec(const std::vector<std::string>& argv,
                          const ProcessOptions& options) const {
  std::vector<std::string> full = {"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return run_process(full, options);
}

std::unique_ptr<BackgroundProcess> Netns::spawn(const std::vector<std::string>& argv,
                                                const std::filesystem::path& log) const {
  std::vector<std::string> full = {"ip", "netns", "exec", name_};
  full.insert(full.end(), argv.begin(), argv.end());
  return std::make_unique<BackgroundProcess>(full, log);
}

void Netns::sysctl(const std::string& key, const std::string& value) const {
  auto r = exec({"sysctl", "-q", "-w", key + "=" + value});
  if (r.exit_code != 0)
    throw std::runtime_error("sysctl " + key + " in " + name_ + " failed: " + r.err);
}

void Netns::run_inside(const std::function<void()>& fn) const {
  std::exception_ptr error;
  std::thread t([&] {
    try {
      int fd = ::open(("/var/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) throw std::runtime_error("open netns " + name_ + ": " + std::strerror(errno));
      int rc = ::setns(fd, CLONE_NEWNET);
      int e = errno;
      ::close(fd);
      if (rc != 0) throw std::runtime_error("setns " + name_ + ": " + std::strerror(e));
      fn();
    } catch (...) {
      error = std::current_exception();
    }
  });
  t.join();
  if (error) std::rethrow_exception(error);
}

void link_veth(const Netns& a, const std::string& a_if, const std::string& a_cidr, const Netns& b,
               const std::string& b_if, const std::string& b_cidr) {
  a.ip({"link", "add", a_if, "type", "veth", "peer", "name", b_if, "netns", b.name()});
  if (!a_cidr.empty()) a.ip({"addr", "add", a_cidr, "dev", a_if});
  if (!b_cidr.empty()) b.ip({"addr", "add", b_cidr, "dev", b_if});
  a.ip({"link", "set", a_if, "up"});
  b.ip({"link", "set", b_if, "up"});
}

}  // namespace tsfleet::testing
