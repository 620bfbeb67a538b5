#include "tsfleet/sys/filesystem.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>

#include "tsfleet/error.h"

namespace tsfleet::sys {

namespace fs = std::filesystem;

namespace {

std::deque<std::string> components(std::string_view path) {
  std::deque<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

FileType type_of(mode_t m) {
  if (S_ISREG(m)) return FileType::regular;
  if (S_ISDIR(m)) return FileType::directory;
  if (S_ISLNK(m)) return FileType::symlink;
  if (S_ISSOCK(m)) return FileType::socket;
  return FileType::other;
}

}  // namespace

RootedFileSystem::RootedFileSystem(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  fs::path canon = fs::weakly_canonical(root_, ec);
  if (!ec) root_ = canon;
  live_ = root_ == fs::path("/");
}

std::optional<fs::path> RootedFileSystem::host_path(std::string_view path, bool follow_last) const {
  if (live_)
    return fs::path(path.empty() || path[0] != '/' ? "/" + std::string(path) : std::string(path));
  std::deque<std::string> todo = components(path);
  std::vector<std::string> done;  // components resolved so far, relative to root_
  int hops = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == ".") continue;
    if (c == "..") {
      if (!done.empty()) done.pop_back();  // never above the root, as under chroot
      continue;
    }
    fs::path here = root_;
    for (const auto& d : done) here /= d;
    here /= c;
    struct stat st {};
    bool last = todo.empty();
    if ((!last || follow_last) && ::lstat(here.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      if (++hops > 40) return std::nullopt;
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlink(here.c_str(), target.data(), target.size());
      if (n < 0) return std::nullopt;
      target.resize(static_cast<size_t>(n));
      std::deque<std::string> t = components(target);
      if (!target.empty() && target[0] == '/') done.clear();
      for (auto it = t.rbegin(); it != t.rend(); ++it) todo.push_front(*it);
      continue;
    }
    done.push_back(std::move(c));
  }
  fs::path out = root_;
  for (const auto& d : done) out /= d;
  return out;
}

std::optional<std::string> RootedFileSystem::read_file(std::string_view path,
                                                       std::size_t limit) const {
  auto p = host_path(path, true);
  if (!p)
    throw Error(ErrorCategory::io,
                fmt::format("{}: too many levels of symbolic links", display(path)));
  int fd = ::open(p->c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT || err == ENOTDIR) return std::nullopt;
    throw Error(ErrorCategory::io,
                fmt::format("{}: cannot read: {}", display(path), std::strerror(err)));
  }
  struct stat st {};
  if (::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    ::close(fd);
    throw Error(ErrorCategory::io,
                fmt::format("{}: is a directory, expected a file", display(path)));
  }
  std::string out;
  char buf[8192];
  while (out.size() < limit) {
    ssize_t n = ::read(fd, buf, std::min(sizeof buf, limit - out.size()));
    if (n < 0) {
      if (errno == EINTR) continue;
      int err = errno;
      ::close(fd);
      throw Error(ErrorCategory::io,
                  fmt::format("{}: cannot read: {}", display(path), std::strerror(err)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

std::optional<std::string> RootedFileSystem::read_link(std::string_view path) const {
  auto p = host_path(path, false);
  if (!p) return std::nullopt;
  std::string target(PATH_MAX, '\0');
  ssize_t n = ::readlink(p->c_str(), target.data(), target.size());
  if (n < 0) return std::nullopt;
  target.resize(static_cast<size_t>(n));
  return target;
}

bool RootedFileSystem::exists(std::string_view path) const {
  auto p = host_path(path, true);
  struct stat st {};
  return p && ::stat(p->c_str(), &st) == 0;
}

std::vector<std::string> RootedFileSystem::list_dir(std::string_view path) const {
  std::vector<std::string> out;
  auto p = host_path(path, true);
  if (!p) return out;
  std::error_code ec;
  fs::directory_iterator it(*p, ec), end;
  for (; !ec && it != end; it.increment(ec)) out.push_back(it->path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<FileInfo> RootedFileSystem::info(std::string_view path) const {
  auto p = host_path(path, false);
  struct stat st {};
  if (!p || ::lstat(p->c_str(), &st) != 0) return std::nullopt;
  return FileInfo{type_of(st.st_mode), static_cast<unsigned>(st.st_mode & 07777), st.st_uid,
                  st.st_gid};
}

std::string RootedFileSystem::display(std::string_view path) const {
  if (live_) return std::string(path);
  return (root_ / fs::path(std::string(path)).relative_path()).string();
}

}  // namespace tsfleet::sys
