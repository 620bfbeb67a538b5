#include "files.h"

#include <cerrno>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tsfleet::lint::detail {

bool plainly_normal(std::string_view s) {
  if (s.empty() || s.back() == '/') return false;
  auto dots = [](std::string_view e) { return e == "." || e == ".."; };
  size_t start = 0;  // of the current element
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '/') continue;
    if (i > 0 && i == start) return false;  // "//": an empty element (a leading '/' is the root)
    if (dots(s.substr(start, i - start))) return false;
    start = i + 1;
  }
  return !dots(s.substr(start));
}

std::optional<std::string> read_regular_file(int dirfd, const char* name) {
  int fd = ::openat(dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return std::nullopt;
  }
  const size_t size = static_cast<size_t>(st.st_size);
  std::string out;
  out.resize(size + 1);  // +1: a file that grew since fstat shows in the same read
  size_t have = 0;
  for (;;) {
    if (have == out.size()) out.resize(out.size() * 2 + 4096);
    size_t want = out.size() - have;
    ssize_t n = ::read(fd, out.data() + have, want);
    if (n < 0) {
      if (errno == EINTR) continue;
      ::close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    have += static_cast<size_t>(n);
    // A short read that ends where fstat said the file ends is its end (a regular file only
    // reads short at its end): no second read to see end of file.
    if (static_cast<size_t>(n) < want && have == size) break;
  }
  ::close(fd);
  out.resize(have);
  return out;
}

}  // namespace tsfleet::lint::detail
