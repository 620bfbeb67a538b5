#include "tsfleet/probe/stun.h"

#include <arpa/inet.h>

#include <random>

namespace tsfleet::probe::stun {

namespace {

constexpr std::uint16_t kBindingRequest = 0x0001;
constexpr std::uint16_t kBindingSuccess = 0x0101;
constexpr std::uint16_t kBindingError = 0x0111;

constexpr std::uint16_t kAttrMappedAddress = 0x0001;
constexpr std::uint16_t kAttrErrorCode = 0x0009;
constexpr std::uint16_t kAttrXorMappedAddress = 0x0020;
constexpr std::uint16_t kAttrXorMappedAddressOld = 0x8020;  // pre-RFC 5389 servers
constexpr std::uint16_t kAttrSoftware = 0x8022;
constexpr std::uint16_t kAttrFingerprint = 0x8028;
constexpr std::uint32_t kFingerprintXor = 0x5354554e;

constexpr std::string_view kSoftware = "tsfleet";

std::uint16_t be16(const std::uint8_t* p) { return static_cast<std::uint16_t>(p[0] << 8 | p[1]); }
std::uint32_t be32(const std::uint8_t* p) {
  return std::uint32_t{p[0]} << 24 | std::uint32_t{p[1]} << 16 | std::uint32_t{p[2]} << 8 | p[3];
}
void put16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void put32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  put16(out, static_cast<std::uint16_t>(v >> 16));
  put16(out, static_cast<std::uint16_t>(v));
}
void set_length(std::vector<std::uint8_t>& msg) {
  auto len = static_cast<std::uint16_t>(msg.size() - 20);
  msg[2] = static_cast<std::uint8_t>(len >> 8);
  msg[3] = static_cast<std::uint8_t>(len);
}

bool fail(std::string* why, const char* text) {
  if (why) *why = text;
  return false;
}

// MAPPED-ADDRESS / XOR-MAPPED-ADDRESS value. `xor_key`: cookie + transaction ID, or nullptr.
std::optional<MappedAddress> decode_address(std::span<const std::uint8_t> v,
                                            const std::uint8_t* xor_key) {
  if (v.size() < 4) return std::nullopt;
  std::uint8_t family = v[1];
  std::uint16_t port = be16(&v[2]);
  std::size_t n = family == 0x01 ? 4 : family == 0x02 ? 16 : 0;
  if (n == 0 || v.size() < 4 + n) return std::nullopt;
  std::array<std::uint8_t, 16> addr{};
  for (std::size_t i = 0; i < n; ++i) addr[i] = v[4 + i] ^ (xor_key ? xor_key[i] : 0);
  if (xor_key) port ^= static_cast<std::uint16_t>(kMagicCookie >> 16);
  char text[INET6_ADDRSTRLEN] = {};
  if (!::inet_ntop(n == 4 ? AF_INET : AF_INET6, addr.data(), text, sizeof text))
    return std::nullopt;
  return MappedAddress{text, port, n == 16};
}

}  // namespace

std::string MappedAddress::endpoint() const {
  return ipv6 ? "[" + ip + "]:" + std::to_string(port) : ip + ":" + std::to_string(port);
}

TxId random_txid() {
  std::random_device rd;
  TxId id;
  for (std::size_t i = 0; i < id.size(); i += 4) {
    std::uint32_t r = rd();
    for (std::size_t j = 0; j < 4; ++j) id[i + j] = static_cast<std::uint8_t>(r >> (8 * j));
  }
  return id;
}

std::uint32_t fingerprint(std::span<const std::uint8_t> bytes) {
  std::uint32_t crc = 0xFFFFFFFFu;
  for (std::uint8_t b : bytes) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc ^ kFingerprintXor;
}

std::vector<std::uint8_t> binding_request(const TxId& txid) {
  std::vector<std::uint8_t> msg;
  msg.reserve(20 + 4 + 8 + 8);
  put16(msg, kBindingRequest);
  put16(msg, 0);
  put32(msg, kMagicCookie);
  msg.insert(msg.end(), txid.begin(), txid.end());
  put16(msg, kAttrSoftware);
  put16(msg, static_cast<std::uint16_t>(kSoftware.size()));
  msg.insert(msg.end(), kSoftware.begin(), kSoftware.end());
  while (msg.size() % 4) msg.push_back(0);
  // FINGERPRINT covers the message with the length already counting the fingerprint attribute.
  msg.resize(msg.size() + 8);
  set_length(msg);
  msg.resize(msg.size() - 8);
  std::uint32_t fp = fingerprint(msg);
  put16(msg, kAttrFingerprint);
  put16(msg, 4);
  put32(msg, fp);
  return msg;
}

std::optional<Response> parse_response(std::span<const std::uint8_t> bytes, std::string* why) {
  auto reject = [why](const char* text) -> std::optional<Response> {
    fail(why, text);
    return std::nullopt;
  };
  if (bytes.size() < 20) return reject("shorter than a STUN header (20 bytes)");
  if (bytes[0] & 0xC0) return reject("not STUN: the first two bits are not zero");
  if (be32(&bytes[4]) != kMagicCookie) return reject("not STUN: no magic cookie");
  std::uint16_t type = be16(&bytes[0]);
  std::size_t length = be16(&bytes[2]);
  if (length % 4 != 0) return reject("STUN message length is not a multiple of 4");
  if (20 + length != bytes.size())
    return reject("STUN message length disagrees with the datagram's size");
  if (type != kBindingSuccess && type != kBindingError)
    return reject("not a Binding response");

  Response r;
  r.success = type == kBindingSuccess;
  std::copy(bytes.begin() + 8, bytes.begin() + 20, r.txid.begin());
  std::array<std::uint8_t, 16> xor_key{};
  for (std::size_t i = 0; i < 4; ++i) xor_key[i] = bytes[4 + i];
  std::copy(r.txid.begin(), r.txid.end(), xor_key.begin() + 4);

  std::optional<MappedAddress> xor_mapped, mapped;
  std::size_t at = 20;
  while (at < bytes.size()) {
    if (bytes.size() - at < 4) return reject("truncated STUN attribute header");
    std::uint16_t attr = be16(&bytes[at]);
    std::size_t len = be16(&bytes[at + 2]);
    std::size_t padded = (len + 3) & ~std::size_t{3};
    if (bytes.size() - at - 4 < padded) return reject("STUN attribute runs past the message");
    auto value = bytes.subspan(at + 4, len);
    switch (attr) {
      case kAttrXorMappedAddress:
      case kAttrXorMappedAddressOld:
        if (!xor_mapped) xor_mapped = decode_address(value, xor_key.data());
        break;
      case kAttrMappedAddress:
        if (!mapped) mapped = decode_address(value, nullptr);
        break;
      case kAttrErrorCode:
        if (len >= 4) r.error_code = static_cast<std::uint16_t>((value[2] & 0x07) * 100 + value[3]);
        break;
      case kAttrSoftware:
        r.software.assign(value.begin(), value.end());
        break;
      case kAttrFingerprint: {
        if (len != 4 || at + 8 != bytes.size())
          return reject("STUN FINGERPRINT is not the last 4-byte attribute");
        if (be32(value.data()) != fingerprint(bytes.first(at)))
          return reject("STUN FINGERPRINT does not match");
        break;
      }
      default:
        break;  // comprehension-optional or not ours: ignored
    }
    at += 4 + padded;
  }
  r.mapped = xor_mapped ? xor_mapped : mapped;
  if (r.success && !r.mapped) return reject("Binding response without a mapped address");
  return r;
}

}  // namespace tsfleet::probe::stun
