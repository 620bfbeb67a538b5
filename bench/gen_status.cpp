// Writes a tailscaled `GET /localapi/v0/status` document with N peers, to the documented schema
// (ipnstate.Status / PeerStatus, tailscale-api.md §3.1-3.2 as copied into docs/testing.md's
// scenarios): tab-indented like tailscaled, about 1.6 KB a peer. Peers vary the way a real
// tailnet does: direct, DERP, peer relay, offline, tagged, exit nodes, subnet routers, expired.
//
//   gen_status N [OUT]      (OUT defaults to stdout)
#include <cstdio>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

namespace {

std::string hex64(unsigned long long seed) {
  std::string s;
  unsigned long long x = seed * 0x9E3779B97F4A7C15ull + 1;
  while (s.size() < 64) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    s += fmt::format("{:016x}", x);
  }
  return s.substr(0, 64);
}

void peer(std::string& out, long i, bool last) {
  std::string key = "nodekey:" + hex64(static_cast<unsigned long long>(i));
  std::string name = fmt::format("node{:05d}", i);
  int a = static_cast<int>((i / 250) % 250), b = static_cast<int>(i % 250) + 1;
  std::string ip4 = fmt::format("100.{}.{}.{}", 64 + (i / 62500) % 60, a, b);
  std::string ip6 = fmt::format("fd7a:115c:a1e0::{:x}", i + 1);
  bool online = i % 7 != 3;
  bool active = online && i % 3 == 0;
  std::string cur = i % 4 == 0 ? fmt::format("198.51.{}.{}:41641", a, b) : "";
  std::string peer_relay = i % 11 == 5 ? fmt::format("203.0.113.{}:7777:vni:{}", b, i) : "";
  bool exit_opt = i % 97 == 1;
  bool router = i % 53 == 2;
  std::string allowed = fmt::format("\"{}/32\",\n\t\t\t\t\"{}/128\"", ip4, ip6);
  if (router) allowed += fmt::format(",\n\t\t\t\t\"10.{}.{}.0/24\"", a, b);
  if (exit_opt) allowed += ",\n\t\t\t\t\"0.0.0.0/0\",\n\t\t\t\t\"::/0\"";
  std::string tags = i % 5 == 0 ? ",\n\t\t\t\"Tags\": [\n\t\t\t\t\"tag:server\"\n\t\t\t]" : "";
  std::string primary = router ? fmt::format(",\n\t\t\t\"PrimaryRoutes\": [\n\t\t\t\t\"10.{}.{}.0/24\"\n\t\t\t]", a, b) : "";
  std::string expired = i % 101 == 7 ? ",\n\t\t\t\"Expired\": true" : "";
  out += fmt::format(R"(		"{key}": {{
			"ID": "n{id}CNTRL",
			"PublicKey": "{key}",
			"HostName": "{name}",
			"DNSName": "{name}.tail1234.ts.net.",
			"OS": "{os}",
			"UserID": {uid},
			"TailscaleIPs": [
				"{ip4}",
				"{ip6}"
			],
			"AllowedIPs": [
				{allowed}
			],
			"Addrs": [
				"192.0.2.{b}:41641",
				"[2001:db8::{b:x}]:41641"
			],
			"CurAddr": "{cur}",
			"Relay": "{relay}",
			"PeerRelay": "{peer_relay}",
			"RxBytes": {rx},
			"TxBytes": {tx},
			"Created": "2026-03-01T10:00:00Z",
			"LastWrite": "2026-12-01T11:59:00Z",
			"LastSeen": "{seen}",
			"LastHandshake": "2026-12-01T11:58:30.123456789Z",
			"Online": {online},
			"ExitNode": false,
			"ExitNodeOption": {exit_opt},
			"Active": {active},
			"PeerAPIURL": [
				"http://{ip4}:40361",
				"http://[{ip6}]:40361"
			],
			"TaildropTarget": 3,
			"NoFileSharingReason": "",
			"Capabilities": [
				"https://tailscale.com/cap/file-sharing"
			],
			"CapMap": {{
				"https://tailscale.com/cap/file-sharing": null
			}},
			"sshHostKeys": [
				"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI{sshkey}",
				"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBB{sshkey}{sshkey}{sshkey}"
			],
			"InNetworkMap": true,
			"InMagicSock": true,
			"InEngine": true,
			"KeyExpiry": "2027-05-30T10:00:00Z"{tags}{primary}{expired}
		}}{comma}
)",
                     fmt::arg("key", key), fmt::arg("id", i), fmt::arg("name", name), fmt::arg("os", i % 9 == 0 ? "macOS" : "linux"),
                     fmt::arg("uid", 1000 + i % 20), fmt::arg("ip4", ip4), fmt::arg("ip6", ip6), fmt::arg("allowed", allowed),
                     fmt::arg("b", b), fmt::arg("cur", cur), fmt::arg("relay", i % 2 ? "fra" : "nyc"),
                     fmt::arg("peer_relay", peer_relay), fmt::arg("rx", i * 1031 % 100000), fmt::arg("tx", i * 2053 % 100000),
                     fmt::arg("seen", online ? "0001-01-01T00:00:00Z" : "2026-11-28T09:15:00Z"),
                     fmt::arg("online", online ? "true" : "false"), fmt::arg("exit_opt", exit_opt ? "true" : "false"),
                     fmt::arg("active", active ? "true" : "false"), fmt::arg("sshkey", hex64(static_cast<unsigned long long>(i) + 7).substr(0, 40)),
                     fmt::arg("tags", tags), fmt::arg("primary", primary), fmt::arg("expired", expired),
                     fmt::arg("comma", last ? "" : ","));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: gen_status N [OUT]\n");
    return 2;
  }
  long n = std::strtol(argv[1], nullptr, 10);
  std::FILE* f = argc > 2 ? std::fopen(argv[2], "w") : stdout;
  if (!f || n < 0) {
    std::perror("gen_status");
    return 1;
  }
  std::string out = R"({
	"Version": "1.102.3-t1a2b3c4d5-g6e7f8a9b0",
	"TUN": true,
	"BackendState": "Running",
	"HaveNodeKey": true,
	"AuthURL": "",
	"TailscaleIPs": [
		"100.64.0.1",
		"fd7a:115c:a1e0::1"
	],
	"Self": {
		"ID": "nSELFCNTRL",
		"PublicKey": "nodekey:0000000000000000000000000000000000000000000000000000000000000000",
		"HostName": "p620",
		"DNSName": "p620.tail1234.ts.net.",
		"OS": "linux",
		"UserID": 1001,
		"TailscaleIPs": [
			"100.64.0.1",
			"fd7a:115c:a1e0::1"
		],
		"AllowedIPs": [
			"100.64.0.1/32",
			"fd7a:115c:a1e0::1/128",
			"192.168.1.0/24",
			"0.0.0.0/0",
			"::/0"
		],
		"Relay": "fra",
		"Online": true,
		"KeyExpiry": "2027-05-30T10:00:00Z",
		"PrimaryRoutes": [
			"192.168.1.0/24"
		],
		"Tags": [
			"tag:server"
		]
	},
	"Health": [],
	"MagicDNSSuffix": "tail1234.ts.net",
	"CurrentTailnet": {
		"Name": "example.org",
		"MagicDNSSuffix": "tail1234.ts.net",
		"MagicDNSEnabled": true
	},
	"Peer": {
)";
  std::fwrite(out.data(), 1, out.size(), f);
  // The default fleet's other hosts come first, so the summary has something to match.
  const char* fleet_hosts[] = {"p510", "razer", "samsung"};
  std::string chunk;
  for (long i = 0; i < n; ++i) {
    chunk.clear();
    peer(chunk, i, i + 1 == n);
    if (i < 3) {
      std::string from = fmt::format("node{:05d}", i);
      for (std::size_t p; (p = chunk.find(from)) != std::string::npos;) chunk.replace(p, from.size(), fleet_hosts[i]);
    }
    std::fwrite(chunk.data(), 1, chunk.size(), f);
  }
  out = "\t},\n\t\"User\": {\n\t\t\"1001\": {\n\t\t\t\"ID\": 1001,\n\t\t\t\"LoginName\": \"ops@example.org\",\n\t\t\t\"DisplayName\": \"Ops\"\n\t\t}\n\t},\n\t\"ClientVersion\": null\n}\n";
  std::fwrite(out.data(), 1, out.size(), f);
  if (f != stdout) std::fclose(f);
  return 0;
}
