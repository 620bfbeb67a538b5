#include "tsfleet/error.h"

namespace tsfleet {

int exit_code_for(ErrorCategory category) noexcept {
  switch (category) {
    case ErrorCategory::usage: return 2;
    case ErrorCategory::input: return 3;
    case ErrorCategory::daemon: return 4;
    case ErrorCategory::io: return 5;
    case ErrorCategory::unavailable: return 6;
    case ErrorCategory::auth: return 7;
    case ErrorCategory::timeout: return 8;
    case ErrorCategory::internal: return 70;
  }
  return 70;
}

}  // namespace tsfleet
