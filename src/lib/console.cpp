#include "tsfleet/console.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "tsfleet/redact.h"

namespace tsfleet {

namespace {

// Formats like "tsfleet: warning: ..." on stderr, masking secrets in every message.
class RedactingStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit RedactingStderrSink(bool colour) : colour_(colour) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string text = redact(std::string_view(msg.payload.data(), msg.payload.size()));
    const char* level = "";
    const char* on = "";
    switch (msg.level) {
      case spdlog::level::trace: level = "trace: "; break;
      case spdlog::level::debug: level = "debug: "; break;
      case spdlog::level::info: level = ""; break;
      case spdlog::level::warn: level = "warning: "; on = "\033[33m"; break;
      case spdlog::level::err:
      case spdlog::level::critical: level = "error: "; on = "\033[31m"; break;
      default: break;
    }
    std::string line = "tsfleet: ";
    if (colour_ && *on) line += std::string(on) + level + "\033[0m";
    else line += level;
    line += text;
    line += '\n';
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }

 private:
  bool colour_;
};

}  // namespace

bool use_colour(std::FILE* stream) {
  const char* no = std::getenv("NO_COLOR");
  if (no && *no) return false;
  const char* term = std::getenv("TERM");
  if (term && std::strcmp(term, "dumb") == 0) return false;
  return isatty(fileno(stream)) == 1;
}

void setup_logging(int verbosity) {
  auto sink = std::make_shared<RedactingStderrSink>(use_colour(stderr));
  auto logger = std::make_shared<spdlog::logger>("tsfleet", sink);
  logger->set_level(verbosity < 0 ? spdlog::level::err
                    : verbosity == 0 ? spdlog::level::info
                    : verbosity == 1 ? spdlog::level::debug
                                     : spdlog::level::trace);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void print_out(std::string_view text) {
  std::string t = redact(text);
  std::fwrite(t.data(), 1, t.size(), stdout);
}

}  // namespace tsfleet

namespace tsfleet {

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_json(const nlohmann::json& j) { print_out(json_text(j, 2) + "\n"); }

}  // namespace tsfleet
