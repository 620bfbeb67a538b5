#pragma once
// A tiny authoritative UDP DNS responder for tests: answers A and AAAA queries from tables
// (NXDOMAIN for names it knows neither way; no answer for a known name without that type), optionally inside a network namespace. It parses queries itself
// (not with the library's parser) so the probe is tested against an independent implementation.
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <thread>

namespace tsfleet::testing {

class Netns;

class DnsResponder {
 public:
  // Binds `address` (port 0: any free port) in `ns` (nullptr: this namespace). Names are matched
  // case-insensitively without the trailing dot.
  DnsResponder(std::map<std::string, std::string> a_records, const Netns* ns = nullptr,
               const std::string& address = "127.0.0.1", std::uint16_t port = 0,
               std::map<std::string, std::string> aaaa_records = {});
  ~DnsResponder();
  DnsResponder(const DnsResponder&) = delete;
  DnsResponder& operator=(const DnsResponder&) = delete;

  std::uint16_t port() const { return port_; }
  const std::string& address() const { return address_; }
  std::string endpoint() const { return address_ + ":" + std::to_string(port_); }
  void set(const std::string& name, const std::string& ipv4);  // change an answer at run time
  void set_aaaa(const std::string& name, const std::string& ipv6);
  int queries() const { return queries_.load(); }

 private:
  void loop();
  std::map<std::string, std::string> records_, aaaa_;
  mutable std::mutex mu_;
  std::string address_;
  std::uint16_t port_ = 0;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

}  // namespace tsfleet::testing
