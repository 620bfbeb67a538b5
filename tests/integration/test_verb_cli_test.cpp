// `tsfleet test` and `tsfleet probe-server` as a user runs them: usage errors, a missing or
// stopped daemon, the text table, and the probe server answering a measurement (loopback only).
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <thread>

#include "support/fake_daemon.h"
#include "support/helpers.h"
#include "tsfleet/error.h"
#include "tsfleet/probe/throughput.h"

using namespace tsfleet;
using namespace tsfleet::testing;

namespace {

constexpr const char* kFleet = R"({
  "schema_version": 1, "tailnet": "tail1234.ts.net", "nixos_release": "25.11",
  "hosts": {
    "gw":     {"roles": ["subnet-router", "exit-node"], "routes": ["192.168.10.0/24"]},
    "laptop": {"roles": ["client"], "accept_routes": true, "exit_node": "gw"},
    "desk":   {"roles": ["client"]}
  }
})";


}  // namespace

TEST_CASE("tsfleet test: an unknown --host, --peer or --probe is a usage error with a suggestion") {
  TempDir dir;
  write_file(dir / "fleet.json", kFleet);
  auto host = run_tsfleet({"test", "--fleet", (dir / "fleet.json").string(), "--host", "laptpo"});
  CHECK(host.exit_code == 2);
  CHECK_THAT(host.err, Catch::Contains("did you mean laptop"));
  auto probe = run_tsfleet(
      {"test", "--fleet", (dir / "fleet.json").string(), "--host", "laptop", "--probe", "mtuu"});
  CHECK(probe.exit_code == 2);
  CHECK_THAT(probe.err, Catch::Contains("did you mean mtu"));
  auto dur = run_tsfleet(
      {"test", "--fleet", (dir / "fleet.json").string(), "--host", "laptop", "--timeout", "soon"});
  CHECK(dur.exit_code == 2);
  CHECK_THAT(dur.err, Catch::Contains("--timeout soon"));
  FakeDaemon d(scenario("probe-lab.json"));
  auto peer = run_tsfleet({"test", "--fleet", (dir / "fleet.json").string(), "--host", "laptop",
                           "--socket", d.socket().string(), "--peer", "dsek"});
  CHECK(peer.exit_code == 2);
  CHECK_THAT(peer.err, Catch::Contains("did you mean desk"));
}

TEST_CASE("tsfleet test: no daemon, or a stopped one, exits 4 and says what to do") {
  TempDir dir;
  write_file(dir / "fleet.json", kFleet);
  auto none = run_tsfleet({"test", "--fleet", (dir / "fleet.json").string(), "--host", "laptop",
                           "--socket", (dir / "missing.sock").string()});
  CHECK(none.exit_code == 4);
  FakeDaemon d(scenario("probe-lab.json"), {.state = "Stopped", .socket_absent = false});
  auto stopped = run_tsfleet({"test", "--fleet", (dir / "fleet.json").string(), "--host", "laptop",
                              "--socket", d.socket().string()});
  CHECK(stopped.exit_code == 4);
  CHECK_THAT(stopped.err, Catch::Contains("Stopped") && Catch::Contains("up"));
}

TEST_CASE("tsfleet test prints a table of peers and paths, then the results") {
  TempDir dir;
  write_file(dir / "fleet.json", kFleet);
  FakeDaemon d(scenario("probe-lab.json"));
  auto r = run_tsfleet({"test", "--fleet", (dir / "fleet.json").string(), "--host", "laptop",
                        "--socket", d.socket().string(), "--probe", "ping"});
  INFO(r.out << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("PEER") && Catch::Contains("PATH"));
  CHECK_THAT(r.out, Catch::Contains("gw") && Catch::Contains("direct") &&
                        Catch::Contains("192.0.2.1:41641"));
  CHECK_THAT(r.out, Catch::Contains("PASS  ping host gw: 100.64.0.1 answers directly"));
  CHECK_THAT(r.out, Catch::Contains("2 passed, 0 warned, 0 failed"));
  // Not a terminal: no progress line on stderr.
  CHECK(r.err.find("\r") == std::string::npos);
}

TEST_CASE("tsfleet probe-server --once answers one measurement and exits 0") {
  const std::uint16_t port = free_loopback_port();
  ProcessResult server;
  std::thread t([&] {
    server = run_tsfleet({"probe-server", "--listen", "127.0.0.1", "--port", std::to_string(port),
                          "--once", "--max-seconds", "10"});
  });
  probe::ThroughputLimits limits;
  limits.duration = std::chrono::milliseconds(300);
  limits.max_bytes = 64ull << 20;
  std::optional<probe::ThroughputMeasurement> m;
  for (int i = 0; i < 100 && !m; ++i) {
    try {
      m = probe::measure_throughput("127.0.0.1", port, limits);
    } catch (const Error&) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));  // not listening yet
    }
  }
  t.join();
  REQUIRE(m);
  CHECK(m->bytes > 0);
  CHECK(m->bytes <= limits.max_bytes);
  CHECK(m->seconds > 0);
  CHECK(server.exit_code == 0);
  CHECK_THAT(server.out, Catch::Contains("listening on 127.0.0.1 port " + std::to_string(port)));
}

TEST_CASE("the probe server stops reading at its byte cap and ignores strangers") {
  probe::ProbeServerOptions so;
  so.listen = "127.0.0.1";
  so.port = 0;
  so.sessions = 1;
  so.max_bytes = 1 << 20;
  probe::ProbeServer server(so);
  std::atomic<bool> stop{false};
  std::thread t([&] { server.serve(stop); });
  // A connection without the hello is closed and does not count as the session.
  {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server.port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    const char junk[] = "GET / HTTP/1.1\r\n\r\n";
    CHECK(::send(fd, junk, sizeof junk - 1, MSG_NOSIGNAL) > 0);
    char c;
    CHECK(::recv(fd, &c, 1, 0) <= 0);  // closed without an answer
    ::close(fd);
  }
  probe::ThroughputLimits limits;
  limits.duration = std::chrono::milliseconds(2000);
  limits.max_bytes = 64ull << 20;
  auto m = probe::measure_throughput("127.0.0.1", server.port(), limits);
  stop = true;
  t.join();
  CHECK(m.bytes >= (1u << 20));
  CHECK(m.bytes < (2u << 20));  // the cap (plus at most one read) is what was counted
}
