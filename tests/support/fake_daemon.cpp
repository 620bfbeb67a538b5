#include "support/fake_daemon.h"

#include <fcntl.h>
#include <httplib.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

extern char** environ;

namespace tsfleet::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

fs::path fake_tailscaled_binary() { return FAKE_TAILSCALED_BINARY; }
fs::path fake_tailscale_cli_dir() { return FAKE_TAILSCALE_CLI_DIR; }
fs::path scenario_dir() { return TSFLEET_SCENARIO_DIR; }
fs::path scenario(const std::string& name) { return scenario_dir() / name; }

namespace {

bool can_connect(const fs::path& path) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

FakeDaemon::FakeDaemon(const fs::path& scenario_file, FakeDaemonOptions options) {
  socket_ = dir_ / "tailscaled.sock";
  control_ = dir_ / "control.sock";
  log_ = dir_ / "fake-tailscaled.log";
  std::vector<std::string> argv{fake_tailscaled_binary().string(),
                                "--socket",
                                socket_.string(),
                                "--control-socket",
                                control_.string(),
                                "--scenario",
                                scenario_file.string()};
  if (options.state) {
    argv.push_back("--state");
    argv.push_back(*options.state);
  }
  if (options.socket_absent) argv.push_back("--absent");

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  int rc = posix_spawn(&pid_, argv[0].c_str(), &actions, nullptr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("cannot run " + argv[0] + ": " + std::strerror(rc));

  auto deadline = std::chrono::steady_clock::now() + 10s;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      throw std::runtime_error("fake-tailscaled exited at start:\n" + log());
    }
    if (can_connect(control_) && (options.socket_absent || can_connect(socket_))) return;
    std::this_thread::sleep_for(10ms);
  }
  stop();
  throw std::runtime_error("fake-tailscaled did not start within 10 s:\n" + log());
}

FakeDaemon::~FakeDaemon() { stop(); }

void FakeDaemon::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + 2s;
  while (::waitpid(pid_, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
    std::this_thread::sleep_for(5ms);
  }
  pid_ = -1;
}

std::string FakeDaemon::log() const {
  try {
    return read_file(log_);
  } catch (...) {
    return {};
  }
}

nlohmann::json FakeDaemon::control(const std::string& method, const std::string& path,
                                   const nlohmann::json& body) {
  httplib::Client cli(control_.string(), 80);
  cli.set_address_family(AF_UNIX);
  cli.set_read_timeout(5, 0);
  cli.set_write_timeout(5, 0);
  std::string target = "/fake/v0/" + path;
  std::string payload = body.is_null() ? std::string() : body.dump();
  httplib::Result res = method == "GET" ? cli.Get(target.c_str())
                                        : cli.Post(target.c_str(), payload, "application/json");
  if (!res)
    throw std::runtime_error("fake-tailscaled control " + target + ": " +
                             httplib::to_string(res.error()));
  if (res->status < 200 || res->status > 299)
    throw std::runtime_error("fake-tailscaled control " + target + ": HTTP " +
                             std::to_string(res->status) + ": " + res->body);
  return nlohmann::json::parse(res->body, nullptr, false);
}

void FakeDaemon::set_fault(const std::string& endpoint, nlohmann::json fault) {
  fault["endpoint"] = endpoint;
  control("POST", "fault", fault);
}
void FakeDaemon::clear_faults() { control("POST", "faults/clear"); }
void FakeDaemon::set_state(const std::string& state) {
  control("POST", "state", {{"state", state}});
}
std::string FakeDaemon::state() { return control("GET", "state").value("state", ""); }
void FakeDaemon::restart(int down_ms) { control("POST", "restart", {{"down_ms", down_ms}}); }

void FakeDaemon::set_socket_present(bool present) {
  control("POST", "socket", {{"present", present}});
  auto deadline = std::chrono::steady_clock::now() + 5s;
  // The change happens asynchronously; wait until it is visible.
  while (std::chrono::steady_clock::now() < deadline) {
    if (present ? can_connect(socket_) : !fs::exists(socket_)) return;
    std::this_thread::sleep_for(10ms);
  }
}

bool FakeDaemon::wait_for_socket(int timeout_ms) const {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (can_connect(socket_)) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

nlohmann::json FakeDaemon::requests() { return control("GET", "requests"); }
void FakeDaemon::notify(const nlohmann::json& n) { control("POST", "notify", n); }

}  // namespace tsfleet::testing
