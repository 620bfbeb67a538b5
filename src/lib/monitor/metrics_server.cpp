#include "tsfleet/monitor/metrics_server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <charconv>
#include <chrono>
#include <thread>

#include "tsfleet/error.h"

namespace tsfleet::monitor {

ListenAddress parse_listen_address(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return Error(
        ErrorCategory::usage,
        fmt::format("--listen {}: {}; write ADDR:PORT, e.g. 127.0.0.1:9101, [::1]:9101 or :9101", s,
                    why));
  };
  ListenAddress a;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos || close + 1 >= s.size() || s[close + 1] != ':')
      throw bad("bad [IPv6]:PORT");
    a.host = std::string(s.substr(1, close - 1));
    port = s.substr(close + 2);
  } else {
    auto colon = s.rfind(':');
    if (colon == std::string_view::npos) throw bad("no port");
    if (s.substr(0, colon).find(':') != std::string_view::npos)
      throw bad("IPv6 addresses go in brackets");
    a.host = colon == 0 ? "0.0.0.0" : std::string(s.substr(0, colon));
    port = s.substr(colon + 1);
  }
  int p = -1;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || p < 0 || p > 65535)
    throw bad("the port must be 0-65535");
  a.port = p;
  if (a.host.empty()) throw bad("empty address");
  return a;
}

struct MetricsServer::Impl {
  httplib::Server server;
  std::thread thread;
};

MetricsServer::MetricsServer(const ListenAddress& address, Provider provider)
    : impl_(std::make_unique<Impl>()) {
  auto& svr = impl_->server;
  // Scrapes are rare and cheap: two workers are plenty and keep the footprint small.
  svr.new_task_queue = [] { return new httplib::ThreadPool(2); };
  svr.set_keep_alive_max_count(10);
  svr.set_read_timeout(5, 0);
  svr.set_write_timeout(5, 0);
  svr.Get("/metrics", [provider](const httplib::Request&, httplib::Response& res) {
    res.set_content(provider(), "text/plain; version=0.0.4; charset=utf-8");
  });
  svr.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("tsfleet monitor: metrics are at /metrics\n", "text/plain; charset=utf-8");
  });
  if (address.port == 0) {
    port_ = svr.bind_to_any_port(address.host);
    if (port_ <= 0)
      throw Error(ErrorCategory::io,
                  fmt::format("--listen {}:0: cannot bind a port on that address", address.host));
  } else {
    if (!svr.bind_to_port(address.host, address.port))
      throw Error(ErrorCategory::io,
                  fmt::format("--listen {}:{}: cannot bind (address in use, or not an address of "
                              "this host)",
                              address.host, address.port));
    port_ = address.port;
  }
  impl_->thread = std::thread([this] { impl_->server.listen_after_bind(); });
  // httplib's stop() does nothing until the accept loop runs: wait for it (briefly) so a stop
  // right after start cannot be lost.
  for (int i = 0; i < 2000 && !svr.is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
}

MetricsServer::~MetricsServer() { stop(); }

void MetricsServer::stop() {
  if (!impl_ || !impl_->thread.joinable()) return;
  impl_->server.stop();
  impl_->thread.join();
}

}  // namespace tsfleet::monitor
