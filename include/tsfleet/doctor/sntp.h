#pragma once
// An SNTP client (RFC 4330, the client side of RFC 5905): one 48-byte mode-3 request over UDP,
// one validated mode-4 reply, the clock offset and round-trip delay. doctor's `clock` check uses
// it to measure this machine's clock against an NTP server. The packet codec and the arithmetic
// are pure functions (fuzz/sntp_fuzz.cpp holds the reply parser to "any bytes, never throws");
// query_sntp() is the only part that touches the network.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet::doctor {

inline constexpr std::uint16_t ntp_port = 123;
inline constexpr std::size_t ntp_packet_size = 48;

// An NTP timestamp: seconds since 1900-01-01 in the high 32 bits, the fraction of a second in
// the low 32 (RFC 5905 §6). Eras wrap every 2^32 s (2036-02-07); differences of timestamps less
// than 68 years apart are exact across the wrap.
using NtpTimestamp = std::uint64_t;

// The header fields of an NTP packet (RFC 5905 §7.3), in host order. Extension fields and the
// MAC, if any, are ignored.
struct NtpPacket {
  int leap = 0;     // LI: 0 none, 1 last minute has 61 s, 2 59 s, 3 unsynchronized
  int version = 4;  // VN
  int mode = 3;     // 3 client, 4 server, 5 broadcast...
  int stratum = 0;  // 0 kiss-o'-death / unspecified, 1 primary, 2..15 secondary, 16 unsynchronized
  int poll = 0;
  int precision = 0;
  std::uint32_t root_delay = 0, root_dispersion = 0;  // 16.16 seconds
  std::uint32_t reference_id = 0;
  NtpTimestamp reference = 0, originate = 0, receive = 0, transmit = 0;
};

std::array<std::uint8_t, ntp_packet_size> encode_ntp_packet(const NtpPacket& p);
// The first 48 bytes as a packet; nullopt when there are fewer.
std::optional<NtpPacket> decode_ntp_packet(std::span<const std::uint8_t> bytes);

// A client request (LI 0, VN 4, mode 3) whose transmit timestamp is `transmit`. The client keeps
// its own send time: the transmit field only has to come back as the reply's originate, so it
// may be random (which keeps off-path attackers from guessing it and says nothing about the
// local clock).
std::array<std::uint8_t, ntp_packet_size> make_sntp_request(NtpTimestamp transmit);

// Validates a server's reply to the request that carried `sent` as its transmit timestamp
// (RFC 4330 §5): at least 48 bytes, mode 4 (server), version 1..4, stratum 1..15 (0 is a
// kiss-o'-death, whose code is named; 16 is unsynchronized), leap indicator not 3
// (unsynchronized), originate equal to `sent`, a non-zero transmit time. nullopt with `why` set
// to what is wrong otherwise. Never throws.
std::optional<NtpPacket> parse_sntp_reply(std::span<const std::uint8_t> bytes, NtpTimestamp sent,
                                          std::string* why = nullptr);

// The NTP timestamp of a system_clock time (the era is taken modulo 2^32 seconds).
NtpTimestamp to_ntp_time(std::chrono::system_clock::time_point t);
// a - b, for timestamps less than 68 years apart (exact to the nanosecond, rounded down).
std::chrono::nanoseconds ntp_difference(NtpTimestamp a, NtpTimestamp b);

// From t1 (request sent, client clock), t2 (received, server clock), t3 (reply sent, server
// clock), t4 (reply received, client clock): offset = ((t2 - t1) + (t3 - t4)) / 2, what to add to
// the client's clock to get the server's (positive: the client is behind), and delay = (t4 - t1)
// - (t3 - t2), the round trip without the server's own processing time.
struct SntpTiming {
  std::chrono::nanoseconds offset{0};
  std::chrono::nanoseconds delay{0};
};
SntpTiming sntp_timing(NtpTimestamp t1, NtpTimestamp t2, NtpTimestamp t3, NtpTimestamp t4);

// The reference id as people read it: four ASCII letters for stratum 1 ("GPS", "PPS") and for
// kiss codes ("RATE", "DENY"), else the upstream's IPv4 address (or hash, for IPv6 upstreams).
std::string reference_id_text(std::uint32_t id, int stratum);

// An NTP server to ask: "HOST", "HOST:PORT", "[V6]:PORT" or a bare IPv6 address.
struct TimeServer {
  std::string host;
  std::uint16_t port = ntp_port;
  std::string text() const;  // "host:port" ("[v6]:port")
};
// nullopt with `why` set when the text is empty, the port is not 1..65535, or brackets are
// unbalanced.
std::optional<TimeServer> parse_time_server(std::string_view text, std::string* why = nullptr);

// The servers a configuration file names. Each returns them in file order, deduplicated.
// systemd-timesyncd (timesyncd.conf and its drop-ins): `NTP=` and `FallbackNTP=` in [Time],
// space-separated; an empty assignment resets the list so far (as systemd does). `servers` and
// `fallback` accumulate across calls in the order the files are read.
void apply_timesyncd_conf(std::string_view text, std::vector<std::string>& servers,
                          std::vector<std::string>& fallback);
// chrony.conf (also ntp.conf, whose syntax agrees for these lines): `server HOST [opts]` and
// `pool HOST [opts]`, with chrony's `port N` option. `confdir` / `include` targets are returned
// in `includes` for the caller to read.
std::vector<TimeServer> parse_chrony_conf(std::string_view text,
                                          std::vector<std::string>* includes = nullptr);

// What asking a server gave.
struct SntpMeasurement {
  std::string server;                  // as asked, "host:port"
  std::string address;                 // the address that answered, "192.0.2.1:123"
  std::chrono::nanoseconds offset{0};  // add to this clock to get the server's (positive: behind)
  std::chrono::nanoseconds delay{0};   // round trip
  int stratum = 0;
  int leap = 0;
  std::string reference;  // reference_id_text()
};

enum class SntpFailure { none, resolve, network, timeout, refused, bad_reply };

struct SntpResult {
  std::optional<SntpMeasurement> measurement;
  SntpFailure failure = SntpFailure::none;
  std::string error;  // what went wrong, naming the server ("" when measured)
};

// Asks `server` once, within `timeout` in all (name resolution included): resolves it (at most
// 4 addresses, tried in turn while time is left), sends one request with a random transmit
// timestamp on a connected UDP socket, and waits for a reply that parse_sntp_reply() accepts
// (other datagrams are ignored, so a stray or spoofed packet does not end the wait). Never
// throws: failures are in the result.
SntpResult query_sntp(const TimeServer& server, std::chrono::milliseconds timeout);

}  // namespace tsfleet::doctor
