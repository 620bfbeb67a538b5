#pragma once
// Parsers for what doctor reads from a system: /proc/net/udp, sysctl files, resolv.conf,
// /proc/<pid>/environ and cmdline, systemd unit Environment= lines, iptables-save / nft output,
// `tailscale version` and RFC 3339 times. Every one accepts any bytes and never throws: what it
// cannot understand it leaves out (fuzz/*_fuzz.cpp hold them to that).
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tsfleet::doctor {

// One line of /proc/net/udp or /proc/net/udp6.
struct UdpSocket {
  std::string local_address;  // "0.0.0.0", "127.0.0.1", "::" ... (IPv6 uncompressed groups)
  std::uint16_t local_port = 0;
  std::uint32_t uid = 0;
  std::uint64_t inode = 0;
  bool ipv6 = false;
};
// The sockets of /proc/net/udp (ipv6=false) or udp6 (ipv6=true); the header and malformed lines
// are skipped.
std::vector<UdpSocket> parse_proc_net_udp(std::string_view text, bool ipv6);

// A sysctl file's integer ("1\n" -> 1); nullopt when it is not one integer.
std::optional<long long> parse_sysctl_int(std::string_view text);

// /etc/hostname or /proc/sys/kernel/hostname: the first non-comment line, trimmed ("" if none).
std::string parse_hostname(std::string_view text);

struct ResolvConf {
  std::vector<std::string> nameservers;
  std::vector<std::string> search;
  std::vector<std::string> options;
  // Who wrote it, from its header comments: "tailscale", "systemd-resolved", "resolvconf",
  // "NetworkManager", or "" when it does not say.
  std::string generated_by;
};
ResolvConf parse_resolv_conf(std::string_view text);

// /proc/<pid>/environ: NUL-separated KEY=VALUE (the first '=' splits; entries without one are
// skipped; a later duplicate wins, as getenv sees it).
std::map<std::string, std::string> parse_environ(std::string_view text);
// /proc/<pid>/cmdline: NUL-separated argv.
std::vector<std::string> parse_cmdline(std::string_view text);
// The value of a `--name=value` or `--name value` (also `-name`) flag in argv, if present.
std::optional<std::string> flag_value(const std::vector<std::string>& argv, std::string_view name);

// The environment a systemd unit (or drop-in) sets: `Environment=` lines of its [Service]
// section, with systemd's quoting ("A=1 B=2", "\"A=x y\"", an empty `Environment=` resets).
// Merging several files in order (unit, then drop-ins) is the caller's business.
void apply_unit_environment(std::string_view unit_text, std::map<std::string, std::string>& env);

// What a firewall ruleset dump says about the NixOS firewall and tailscale's chains. Understands
// `iptables-save` / `ip6tables-save` and `nft list ruleset` output.
struct RulesetHints {
  bool recognised = false;                 // at least one rule or chain was understood
  bool nftables = false;                   // nft syntax (a `table` block) was seen
  bool nixos_fw = false;                   // the NixOS firewall's chains/table are present
  std::vector<std::string> nixos_trusted;  // interfaces nixos-fw accepts unconditionally
  std::vector<std::pair<int, int>>
      nixos_allowed_udp;                   // UDP port ranges nixos-fw accepts (any interface)
  std::vector<std::string> ts_accept_all;  // interfaces tailscale's ts-input accepts all on
  bool ts_chains = false;                  // tailscale's ts-input / ts-forward exist
  std::optional<std::string> rpfilter;     // "strict" | "loose" (NixOS rpfilter rules)
};
// Parses one dump; call again with another text (iptables then nft) to add to the same hints.
void parse_ruleset(std::string_view text, RulesetHints& hints);

// The version on the first line of `tailscale version` ("1.102.3"), "" when none.
std::string parse_cli_version(std::string_view text);
// "1.102.3-t1a2b3c-g..." -> "1.102.3": the part before the first '-'.
std::string short_version(std::string_view long_version);

// An RFC 3339 time ("2027-05-30T10:00:00Z", "…T10:00:00.123+02:00") as seconds since the epoch;
// nullopt when malformed or out of range.
std::optional<std::chrono::sys_seconds> parse_rfc3339(std::string_view text);

}  // namespace tsfleet::doctor
