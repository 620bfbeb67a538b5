// tsfleet test: probe the live tailnet from this host the way the fleet file says it should work.
// The logic is in the library (tsfleet/probe/suite.h); this file is options and output.
#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common.h"
#include "tsfleet/console.h"
#include "tsfleet/error.h"
#include "tsfleet/localapi/client.h"
#include "tsfleet/plan.h"
#include "tsfleet/probe/suite.h"
#include "tsfleet/suggest.h"
#include "tsfleet/time_text.h"
#include "tsfleet/sys/process.h"
#include "verbs.h"

namespace tsfleet::cli {

struct TestOptions {
  std::optional<std::string> fleet;
  std::optional<std::string> host;
  std::vector<std::string> peers;
  std::vector<std::string> probes;
  int jobs = 32;
  std::string timeout = "30s";
  int ping_count = 10;
  std::string ping_timeout = "5s";
  std::string ping_interval = "1s";
  std::string interface_name;
  int mtu = 0;
  std::string echo_timeout = "1s";
  std::string dns_server = "100.100.100.100";
  std::string exit_probe_address = "198.51.100.1";
  std::string exit_probe_address6 = "2001:db8::1";
  std::vector<std::string> route_targets;
  std::optional<std::string> egress_url, egress_expect;
  std::string tailscale = "tailscale";
  std::string netcheck = "auto";
  std::string stun_timeout = "3s";
  std::optional<std::string> socket;
  std::optional<std::string> throughput;
  int throughput_port = probe::kDefaultProbePort;
  std::string throughput_time = "3s";
  std::uint64_t throughput_bytes = 4ull << 30;
  bool json = false;
};

namespace {

// A duration option (tsfleet/time_text.h), at most a day.
std::chrono::milliseconds duration_option(const std::string& option, const std::string& text) {
  auto d = parse_duration(text);
  if (!d || *d > std::chrono::hours(24))
    throw Error(ErrorCategory::usage,
                fmt::format("{} {}: want a duration up to a day, like 5s, 500ms or 2m", option, text));
  return *d;
}

std::string system_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  std::string h(buf);
  return h.substr(0, h.find('.'));
}

int run_test(const TestOptions& o) {
  Fleet fleet = select_fleet(o.fleet);
  std::vector<HostPlan> plans = plan(fleet);
  std::vector<std::string> names;
  for (const auto& p : plans) names.push_back(p.name);
  std::string self_name = o.host.value_or(system_hostname());
  const HostPlan* self = nullptr;
  for (const auto& p : plans)
    if (p.name == self_name || (!o.host && p.prefs.hostname == self_name)) self = &p;
  if (!self) {
    auto near = closest_match(self_name, names);
    throw Error(ErrorCategory::usage,
                fmt::format("{} \"{}\" is not a host in the fleet ({}){}: pass --host NAME",
                            o.host ? "--host" : "this host's name", self_name, fleet.source,
                            near ? fmt::format("; did you mean {}?", *near) : ""));
  }

  probe::SuiteOptions so;
  for (const auto& k : o.probes) so.kinds.insert(probe::parse_probe_kind(k));
  if (so.kinds.count(probe::ProbeKind::throughput) && !o.throughput)
    throw Error(
        ErrorCategory::usage,
        "--probe throughput needs --throughput HOST (with `tsfleet probe-server` running there)");
  so.peers = o.peers;
  if (o.jobs < 1 || o.jobs > 1024) throw Error(ErrorCategory::usage, "--jobs: want 1-1024");
  so.jobs = o.jobs;
  so.probe_timeout = duration_option("--timeout", o.timeout);
  if (o.ping_count < 0) throw Error(ErrorCategory::usage, "--ping-count: want 0 or more");
  so.ping.count = o.ping_count;
  so.ping.per_ping = duration_option("--ping-timeout", o.ping_timeout);
  so.ping.relayed_gap = duration_option("--ping-interval", o.ping_interval);
  so.interface_name = o.interface_name;
  if (o.mtu != 0 && (o.mtu < 576 || o.mtu > 65535))
    throw Error(ErrorCategory::usage, "--mtu: want 576-65535");
  so.interface_mtu = o.mtu;
  so.echo_timeout = duration_option("--echo-timeout", o.echo_timeout);
  so.dns = probe::parse_dns_server(o.dns_server);
  so.exit_probe_address = o.exit_probe_address;
  so.exit_probe_address6 = o.exit_probe_address6;
  for (const auto& rt : o.route_targets) {
    auto eq = rt.find('=');
    if (eq == std::string::npos)
      throw Error(ErrorCategory::usage, fmt::format("--route-target {}: want CIDR=ADDR", rt));
    so.route_targets[rt.substr(0, eq)] = rt.substr(eq + 1);
  }
  so.egress_url = o.egress_url;
  so.egress_expect = o.egress_expect;
  so.tailscale_cli = o.tailscale;
  so.netcheck = probe::parse_netcheck_method(o.netcheck);
  so.stun_timeout = duration_option("--stun-timeout", o.stun_timeout);
  so.socket = o.socket;
  so.throughput_peer = o.throughput;
  if (o.throughput_port < 1 || o.throughput_port > 65535)
    throw Error(ErrorCategory::usage, "--throughput-port: want 1-65535");
  so.throughput_port = static_cast<std::uint16_t>(o.throughput_port);
  so.throughput.duration = duration_option("--throughput-time", o.throughput_time);
  if (so.throughput.duration > std::chrono::minutes(5))
    throw Error(ErrorCategory::usage, "--throughput-time: at most 5m");
  so.throughput.max_bytes = o.throughput_bytes;

  sys::SystemProcessRunner runner;
  probe::SuiteEnv env;
  localapi::ClientOptions co;
  if (o.socket) co.socket = *o.socket;
  co.ping_timeout = so.ping.per_ping;
  env.api = [co] { return std::make_unique<localapi::LocalApiClient>(co); };
  env.runner = &runner;
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  if (tty && !o.json)
    env.progress = [](std::size_t done, std::size_t total, const std::string& label) {
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s", done, total, label.c_str());
      std::fflush(stderr);
    };
  probe::SuiteReport report = probe::run_suite(plans, *self, so, env);
  if (env.progress) std::fprintf(stderr, "\r\033[K");
  if (o.json)
    print_json(probe::render_suite_json(report));
  else
    print_out(probe::render_suite_text(report, use_colour(stdout)));
  return report.exit_code;
}

}  // namespace

void setup_test(CLI::App& sub, const GlobalOptions&, Runner& run) {
  auto o = std::make_shared<TestOptions>();
  add_fleet_option(sub, o->fleet);
  sub.add_option("--host", o->host, "This host's name in the fleet (default: the system hostname)");
  sub.add_option("--peer", o->peers, "Only probe this fleet host (repeatable)");
  sub.add_option(
      "--probe", o->probes,
      "Only these probes (repeatable): ping icmp mtu dns route exit-node netcheck throughput");
  sub.add_option("--jobs", o->jobs, "Probes run at the same time (default 32)");
  sub.add_option("--timeout", o->timeout, "The deadline of each probe (default 30s)");
  sub.add_option(
      "--ping-count", o->ping_count,
      "Disco pings per peer at most, like tailscale ping -c (default 10; 0: until the deadline)");
  sub.add_option("--ping-timeout", o->ping_timeout,
                 "Wait for each pong, like tailscale ping --timeout (default 5s)");
  sub.add_option("--ping-interval", o->ping_interval,
                 "Pause after a relayed pong (default 1s, as tailscale ping)");
  sub.add_option("--interface", o->interface_name,
                 "The tailscale interface (default: the host plan's, tailscale0)");
  sub.add_option("--mtu", o->mtu, "The MTU to probe up to (default: the interface's, else 1280)");
  sub.add_option("--echo-timeout", o->echo_timeout, "Wait for each ICMP echo reply (default 1s)");
  sub.add_option(
      "--dns-server", o->dns_server,
      "Resolver for the MagicDNS probe: ADDR[:PORT] or \"system\" (default 100.100.100.100)");
  sub.add_option("--exit-probe-address6", o->exit_probe_address6,
                 "The same for IPv6 (default 2001:db8::1; \"\" skips the IPv6 check)");
  sub.add_option("--exit-probe-address", o->exit_probe_address,
                 "An internet address whose route is looked up for the exit-node probe; no packet "
                 "is sent (default 198.51.100.1)");
  sub.add_option(
      "--route-target", o->route_targets,
      "CIDR=ADDR: the address to probe inside an advertised route (default: its first host)");
  sub.add_option(
      "--egress-url", o->egress_url,
      "http:// URL that answers with the caller's public address (exit-node egress check)");
  sub.add_option("--egress-expect", o->egress_expect,
                 "The exit node's public address the egress URL should report");
  sub.add_option("--tailscale", o->tailscale,
                 "The tailscale CLI, for netcheck (default: tailscale on PATH)");
  sub.add_option("--netcheck", o->netcheck,
                 "How netcheck is made: auto (the tailscale CLI when found, else stun), cli, or "
                 "stun (built in: STUN to the daemon's DERP map)");
  sub.add_option("--stun-timeout", o->stun_timeout,
                 "How long the built-in netcheck waits for STUN answers (default 3s)");
  sub.add_option("--socket", o->socket,
                 "tailscaled's LocalAPI socket (default /var/run/tailscale/tailscaled.sock)");
  sub.add_option(
      "--throughput", o->throughput,
      "Measure TCP throughput to this fleet host or address (runs `tsfleet probe-server` there)");
  sub.add_option("--throughput-port", o->throughput_port, "The probe server's port (default 5299)");
  sub.add_option("--throughput-time", o->throughput_time,
                 "How long to send (default 3s, at most 5m)");
  sub.add_option("--throughput-bytes", o->throughput_bytes,
                 "Stop after this many bytes (default 4 GiB)");
  sub.add_flag("--json", o->json, "JSON output (schema_version 1)");
  sub.footer(
      "Exit codes: 0 every peer direct and every probe passed, 10 some peers only relayed (DERP or "
      "peer relay), "
      "11 some peers unreachable, 1 other probe failures; 2 usage, 3 fleet file, 4 daemon "
      "(docs/cli.md).");
  run = [o] { return run_test(*o); };
}

}  // namespace tsfleet::cli
