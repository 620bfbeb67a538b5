#pragma once
// GET /metrics over HTTP (cpp-httplib) for Prometheus to scrape. The handler only copies the text
// monitor rendered after its last tick: a scrape never touches the daemon.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace tsfleet::monitor {

struct ListenAddress {
  std::string host;  // "127.0.0.1", "::1", "0.0.0.0"
  int port = 0;      // 0: any free port
};

// "127.0.0.1:9101", "[::1]:9101", ":9101" (all interfaces) -> ListenAddress; Error(usage) naming
// the value otherwise.
ListenAddress parse_listen_address(std::string_view s);

class MetricsServer {
 public:
  using Provider = std::function<std::string()>;
  // Binds and starts serving on its own thread (GET /metrics; / says where the metrics are;
  // anything else 404). Throws Error(io) naming the address when it cannot bind.
  MetricsServer(const ListenAddress& address, Provider provider);
  ~MetricsServer();  // stops and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  int port() const { return port_; }  // the bound port (useful with port 0)
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int port_ = 0;
};

}  // namespace tsfleet::monitor
