#include "tsfleet/tailscale_flags.h"

#include <fmt/format.h>

#include "tsfleet/cidr.h"

namespace tsfleet {

const std::vector<TailscaleFlag>& tailscale_flags() {
  using V = FlagValue;
  static const std::vector<TailscaleFlag> flags = {
      {"accept-dns", V::boolean, true, true, false, {}},
      {"accept-routes", V::boolean, true, true, false, {}},
      {"advertise-exit-node", V::boolean, true, true, false, {}},
      {"advertise-connector", V::boolean, true, true, false, {}},
      {"shields-up", V::boolean, true, true, false, {}},
      {"report-posture", V::boolean, true, true, false, {}},
      {"advertise-routes", V::cidr_list, true, true, false, {}},
      {"advertise-tags", V::csv, true, false, true, {}},
      {"auth-key", V::string, true, false, true, {}},
      {"authkey", V::string, true, false, true, {}},
      {"client-id", V::string, true, false, true, {}},
      {"client-secret", V::string, true, false, true, {}},
      {"id-token", V::string, true, false, true, {}},
      {"audience", V::string, true, false, true, {}},
      {"exit-node", V::string, true, true, false, {}},
      {"exit-node-allow-lan-access", V::boolean, true, true, false, {}},
      {"hostname", V::string, true, true, false, {}},
      {"login-server", V::string, true, false, true, {}},
      {"netfilter-mode", V::enumeration, true, true, false, {"on", "nodivert", "off"}},
      {"snat-subnet-routes", V::boolean, true, true, false, {}},
      {"stateful-filtering", V::boolean, true, true, false, {}},
      {"operator", V::string, true, true, false, {}},
      {"unattended", V::boolean, true, true, false, {}},
      {"ssh", V::boolean, true, true, false, {}},
      {"reset", V::boolean, true, false, false, {}},
      {"force-reauth", V::boolean, true, false, true, {}},
      {"timeout", V::duration, true, false, false, {}},
      {"qr", V::boolean, true, false, false, {}},
      {"qr-format", V::enumeration, true, false, false, {"auto", "ascii", "large", "small"}},
      {"json", V::boolean, true, false, false, {}},
      {"accept-risk", V::csv, true, true, false, {}},
      {"nickname", V::string, true, true, true, {}},
      {"webclient", V::boolean, false, true, false, {}},
      {"update-check", V::boolean, false, true, false, {}},
      {"auto-update", V::boolean, false, true, false, {}},
      {"relay-server-port", V::string, false, true, false, {}},
      {"relay-server-static-endpoints", V::csv, false, true, false, {}},
  };
  return flags;
}

bool is_preference(const TailscaleFlag& flag) { return flag.set && !flag.login_only && flag.name != "accept-risk"; }

const TailscaleFlag* find_tailscale_flag(std::string_view name) {
  for (const auto& f : tailscale_flags())
    if (f.name == name) return &f;
  return nullptr;
}

std::vector<std::string> tailscale_flag_names() {
  std::vector<std::string> out;
  for (const auto& f : tailscale_flags()) out.push_back(f.name);
  return out;
}

std::optional<FlagWord> split_flag_word(std::string_view w) {
  if (w.size() < 2 || w[0] != '-') return std::nullopt;
  w.remove_prefix(w[1] == '-' ? 2 : 1);
  if (w.empty()) return std::nullopt;
  FlagWord f;
  auto eq = w.find('=');
  f.name = std::string(w.substr(0, eq));
  if (eq != std::string_view::npos) f.value = std::string(w.substr(eq + 1));
  return f;
}

std::optional<std::string> check_flag_value(const TailscaleFlag& flag, const std::optional<std::string>& value) {
  switch (flag.value) {
    case FlagValue::boolean:
      if (value && *value != "true" && *value != "false" && *value != "1" && *value != "0")
        return fmt::format("--{} takes true or false, not \"{}\"", flag.name, *value);
      return std::nullopt;
    case FlagValue::enumeration: {
      if (!value) return fmt::format("--{} needs a value: one of {}", flag.name, fmt::join(flag.choices, ", "));
      for (const auto& c : flag.choices)
        if (*value == c) return std::nullopt;
      return fmt::format("--{}={} is not valid: use one of {}", flag.name, *value, fmt::join(flag.choices, ", "));
    }
    case FlagValue::cidr_list: {
      if (!value) return fmt::format("--{} needs a value, e.g. --{}=192.168.1.0/24", flag.name, flag.name);
      if (value->empty()) return std::nullopt;  // clears the routes
      size_t start = 0;
      while (start <= value->size()) {
        size_t comma = value->find(',', start);
        std::string item = value->substr(start, comma == std::string::npos ? std::string::npos : comma - start);
        std::string why;
        auto c = parse_cidr(item, &why);
        if (!c) return fmt::format("--{}: \"{}\" is not a CIDR: {}", flag.name, item, why);
        if (c->host_bits_set())
          return fmt::format("--{}: \"{}\" has host bits set; tailscale refuses it: write {}", flag.name, item, c->masked().to_string());
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
      return std::nullopt;
    }
    case FlagValue::duration: {
      if (!value || value->empty()) return fmt::format("--{} needs a duration, e.g. --{}=30s", flag.name, flag.name);
      bool digit = false;
      for (char c : *value) {
        if (c >= '0' && c <= '9') digit = true;
        else if (!(c == '.' || c == 'h' || c == 'm' || c == 's' || c == 'u' || c == 'n')) 
          return fmt::format("--{}={} is not a Go duration (e.g. 30s, 1m30s)", flag.name, *value);
      }
      if (!digit) return fmt::format("--{}={} is not a Go duration (e.g. 30s, 1m30s)", flag.name, *value);
      return std::nullopt;
    }
    case FlagValue::string:
    case FlagValue::csv:
    case FlagValue::port:
      if (!value) return fmt::format("--{} needs a value: write --{}=VALUE as one word", flag.name, flag.name);
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace tsfleet
