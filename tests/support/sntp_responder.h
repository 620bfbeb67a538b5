#pragma once
// A small SNTP server for tests: answers each mode-3 request on 127.0.0.1 (any free port) with
// a mode-4 reply whose clock is this machine's plus a configurable offset, or never answers
// (silent), or answers wrongly on purpose (stratum, leap indicator, mode, originate). It builds
// packets itself (not with the library's codec) so the client is tested against an independent
// implementation of RFC 5905's packet layout.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace tsfleet::testing {

class SntpResponder {
 public:
  struct Options {
    std::chrono::milliseconds offset{0};  // the server's clock minus this machine's
    bool silent = false;                  // receive and count, never answer
    int stratum = 2;
    int leap = 0;
    int mode = 4;
    std::uint32_t reference_id = 0xC0000201;  // 192.0.2.1
    bool wrong_originate = false;  // first send a reply to some other request, then the real one
    std::chrono::milliseconds delay{0};  // wait this long before answering
  };

  explicit SntpResponder(Options options);
  SntpResponder() : SntpResponder(Options{}) {}
  ~SntpResponder();
  SntpResponder(const SntpResponder&) = delete;
  SntpResponder& operator=(const SntpResponder&) = delete;

  std::uint16_t port() const { return port_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  int queries() const { return queries_.load(); }  // requests received (answered or not)
  void set_offset(std::chrono::milliseconds offset);

 private:
  void loop();
  Options options_;
  mutable std::mutex mu_;
  std::uint16_t port_ = 0;
  int fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<int> queries_{0};
  std::thread thread_;
};

}  // namespace tsfleet::testing
