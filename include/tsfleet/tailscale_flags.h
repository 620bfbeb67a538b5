#pragma once
// The flags of `tailscale up` and `tailscale set` (tailscale cmd/tailscale/cli up.go / set.go),
// with the value each takes. Used by check (unknown flags, bad values, up-only vs set-only) and by
// plan/up (what may be passed where).
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet {

enum class FlagValue { boolean, string, cidr_list, csv, duration, enumeration, port };

struct TailscaleFlag {
  std::string name;  // without dashes, e.g. "advertise-routes"
  FlagValue value;
  bool up;           // accepted by `tailscale up`
  bool set;          // accepted by `tailscale set`
  bool login_only;   // only meaningful at login (auth key, control server, tags)
  std::vector<std::string> choices;  // enumeration values
};

const std::vector<TailscaleFlag>& tailscale_flags();

// Whether the flag sets a persistent preference (what `tailscale set` is for), as opposed to a
// login-time flag or an option of the command itself (--timeout, --reset, --accept-risk).
bool is_preference(const TailscaleFlag& flag);
const TailscaleFlag* find_tailscale_flag(std::string_view name);
std::vector<std::string> tailscale_flag_names();

// One argv word split into name and value: "--accept-routes=true" -> {"accept-routes", "true"};
// "--ssh" -> {"ssh", nullopt}. Single-dash forms (-authkey) are accepted as Go's flag package does.
struct FlagWord {
  std::string name;
  std::optional<std::string> value;
};
std::optional<FlagWord> split_flag_word(std::string_view word);

// Checks a flag's value; returns an explanation when it is bad, nullopt when fine.
std::optional<std::string> check_flag_value(const TailscaleFlag& flag, const std::optional<std::string>& value);

}  // namespace tsfleet
