#pragma once
// Real network namespaces for integration tests: each Netns is a uniquely named namespace
// ("tsft-<pid>-<n>-<tag>") removed when the object goes away (so a failing REQUIRE cleans up
// too); namespaces left behind by a killed test run (their pid is gone) are swept at the next
// start. Needs root and iproute2's `ip`; netns_unavailable() says why not, for a SKIP message.
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/helpers.h"

namespace tsfleet::testing {

// nullopt when namespaces can be used here; else the reason (not root, no `ip`, creation failed).
std::optional<std::string> netns_unavailable();

class Netns {
 public:
  // Creates the namespace, brings its loopback up and turns IPv6 duplicate address detection off
  // (addresses usable at once). Throws std::runtime_error with ip's stderr.
  explicit Netns(const std::string& tag);
  ~Netns();
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;

  const std::string& name() const { return name_; }

  // `ip -n NAME <args...>`; throws std::runtime_error (with the command and stderr) on failure.
  void ip(const std::vector<std::string>& args) const;
  // `ip netns exec NAME <argv...>`, not throwing.
  ProcessResult exec(const std::vector<std::string>& argv,
                     const ProcessOptions& options = {}) const;
  // `ip netns exec NAME <argv...>` in the background (see BackgroundProcess).
  std::unique_ptr<BackgroundProcess> spawn(const std::vector<std::string>& argv,
                                           const std::filesystem::path& log) const;
  // `sysctl -w key=value` inside the namespace (throws on failure).
  void sysctl(const std::string& key, const std::string& value) const;
  // Runs `fn` on a thread that has joined this namespace: sockets it creates live here.
  void run_inside(const std::function<void()>& fn) const;

 private:
  std::string name_;
};

// A veth pair between two namespaces: `a_if` in `a` with `a_cidr` (e.g. "100.64.0.1/10") and
// `b_if` in `b` with `b_cidr`, both up. An empty CIDR leaves that end without an address.
void link_veth(const Netns& a, const std::string& a_if, const std::string& a_cidr, const Netns& b,
               const std::string& b_if, const std::string& b_cidr);

}  // namespace tsfleet::testing
