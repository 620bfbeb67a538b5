#include "tsfleet/sys/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "tsfleet/error.h"

namespace tsfleet::sys {

namespace fs = std::filesystem;

std::optional<std::string> read_file_if_exists(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  if (fs::is_directory(path, ec))
    throw Error(ErrorCategory::io, fmt::format("{}: is a directory, expected a file", path.string()));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(ErrorCategory::io, fmt::format("{}: cannot read: {}", path.string(), std::strerror(errno)));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void atomic_write_file(const fs::path& path, const std::string& content) {
  auto fail = [&](const std::string& what, int err) {
    throw Error(ErrorCategory::io, fmt::format("{}: {}: {}", path.string(), what, std::strerror(err)));
  };
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw Error(ErrorCategory::io, fmt::format("{}: cannot create the directory: {}", path.parent_path().string(), ec.message()));
  }
  std::string tmpl = (path.parent_path() / ("." + path.filename().string() + ".tsfleet-XXXXXX")).string();
  int fd = mkstemp(tmpl.data());
  if (fd < 0) fail("cannot create a temporary file next to it", errno);
  auto cleanup = [&](const std::string& what, int err) {
    close(fd);
    unlink(tmpl.c_str());
    fail(what, err);
  };
  size_t off = 0;
  while (off < content.size()) {
    ssize_t w = write(fd, content.data() + off, content.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      cleanup("cannot write", errno);
    }
    off += static_cast<size_t>(w);
  }
  if (fchmod(fd, 0644) != 0) cleanup("cannot set the mode", errno);
  if (fsync(fd) != 0) cleanup("cannot flush to disk", errno);
  if (close(fd) != 0) {
    int err = errno;
    unlink(tmpl.c_str());
    fail("cannot close", err);
  }
  if (rename(tmpl.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmpl.c_str());
    fail("cannot replace", err);
  }
}

}  // namespace tsfleet::sys
