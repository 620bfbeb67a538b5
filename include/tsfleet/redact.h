#pragma once
// Secrets never leave tsfleet: everything printed, logged or put in an error passes through
// redact(), which masks anything that looks like a Tailscale key (tskey-...).
#include <string>
#include <string_view>

namespace tsfleet {

// Replaces every `tskey-<chars>` (auth keys, OAuth client secrets, API keys, with any ?params)
// by `tskey-REDACTED`.
std::string redact(std::string_view text);

// Whether `text` contains something redact() would mask.
bool contains_secret(std::string_view text);

}  // namespace tsfleet
