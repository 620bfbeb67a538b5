#include "tsfleet/monitor/signals.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "tsfleet/error.h"

namespace tsfleet::monitor {

namespace {

int g_pipe[2] = {-1, -1};
struct sigaction g_old_int, g_old_term;

void on_monitor_signal(int sig) {
  int saved = errno;
  unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] auto n = ::write(g_pipe[1], &b, 1);
  errno = saved;
}

}  // namespace

StopOnSignals::StopOnSignals(std::stop_source source) : source_(std::move(source)) {
  if (::pipe2(g_pipe, O_CLOEXEC | O_NONBLOCK) != 0)
    throw Error(ErrorCategory::internal, fmt::format("pipe(): {}", std::strerror(errno)));
  struct sigaction sa {};
  sa.sa_handler = on_monitor_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, &g_old_int);
  ::sigaction(SIGTERM, &sa, &g_old_term);
  thread_ = std::jthread([this](std::stop_token st) {
    while (!st.stop_requested()) {
      pollfd p{g_pipe[0], POLLIN, 0};
      int r = ::poll(&p, 1, -1);
      if (r <= 0) continue;
      unsigned char b = 0;
      if (::read(g_pipe[0], &b, 1) == 1 && b != 0) {
        signal_ = b;
        source_.request_stop();
      }
    }
  });
}

StopOnSignals::~StopOnSignals() {
  thread_.request_stop();
  unsigned char wake = 0;  // a 0 byte only wakes the thread
  [[maybe_unused]] auto n = ::write(g_pipe[1], &wake, 1);
  thread_.join();
  ::sigaction(SIGINT, &g_old_int, nullptr);
  ::sigaction(SIGTERM, &g_old_term, nullptr);
  ::close(g_pipe[0]);
  ::close(g_pipe[1]);
  g_pipe[0] = g_pipe[1] = -1;
}

}  // namespace tsfleet::monitor
