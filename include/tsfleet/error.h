#pragma once
// The one error type of libtsfleet. Every failure a user can act on is an Error with a category;
// main() maps the category to a documented exit code (docs/cli.md). Messages name the place
// (file:line:col, host, endpoint) and say what to do.
#include <stdexcept>
#include <string>

namespace tsfleet {

enum class ErrorCategory {
  usage,        // bad command line                                   -> exit 2
  input,        // fleet file / .nix file / scenario invalid           -> exit 3
  daemon,       // tailscaled unreachable or LocalAPI error            -> exit 4
  io,           // cannot read or write a file                         -> exit 5
  unavailable,  // verb or feature not delivered yet                   -> exit 6
  auth,         // auth key missing, unreadable, rejected, expired     -> exit 7
  timeout,      // a deadline passed                                   -> exit 8
  internal,     // a bug in tsfleet                                    -> exit 70
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCategory category, const std::string& message)
      : std::runtime_error(message), category_(category) {}
  ErrorCategory category() const noexcept { return category_; }

 private:
  ErrorCategory category_;
};

// The process exit code for a category (documented in docs/cli.md).
int exit_code_for(ErrorCategory category) noexcept;

// Exit codes that are not errors: a verb ran and found something.
namespace exit_code {
inline constexpr int ok = 0;
inline constexpr int findings = 1;  // check found problems, configure --check found drift, doctor FAIL, ...
}  // namespace exit_code

}  // namespace tsfleet
