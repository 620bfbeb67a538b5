#pragma once
// Reading a system (its /proc, /sys, /etc, /var, /run) through a small interface with a root
// prefix, so `tsfleet doctor --root DIR` can diagnose a snapshot of another machine and tests can
// use fixture trees (ninja's DiskInterface; bloaty's injected file factory).
//
// Paths are always the system's absolute paths ("/proc/sys/net/ipv4/ip_forward"); the
// implementation decides where they live. Nothing here writes.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tsfleet::sys {

enum class FileType { regular, directory, symlink, socket, other };

struct FileInfo {
  FileType type = FileType::other;
  unsigned mode = 0;      // permission bits (07777)
  std::uint32_t uid = 0;  // owner
  std::uint32_t gid = 0;
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  // The file's contents (following symlinks), or nullopt when it does not exist. Throws
  // Error(io) naming the path when it exists but cannot be read (EACCES, a directory, ...).
  // At most `limit` bytes are read (a /proc file can be endless).
  virtual std::optional<std::string> read_file(std::string_view path,
                                               std::size_t limit = 4 << 20) const = 0;
  // The target of a symlink exactly as stored, or nullopt when `path` is not a symlink.
  virtual std::optional<std::string> read_link(std::string_view path) const = 0;
  // Whether something exists at `path` (following symlinks).
  virtual bool exists(std::string_view path) const = 0;
  // The entry names of a directory, sorted; empty when it is missing or unreadable.
  virtual std::vector<std::string> list_dir(std::string_view path) const = 0;
  // What is at `path` without following a final symlink; nullopt when nothing is.
  virtual std::optional<FileInfo> info(std::string_view path) const = 0;
  // How to name `path` to a person: the path itself for the live system, or with the snapshot
  // directory in front.
  virtual std::string display(std::string_view path) const = 0;
};

// The files under `root` as if `root` were "/". Symlinks inside the tree resolve inside it (an
// absolute target "/run/x" means root/run/x, as under chroot), so a snapshot never reads the
// machine running tsfleet. With root "/" this is the live system.
class RootedFileSystem final : public FileSystem {
 public:
  explicit RootedFileSystem(std::filesystem::path root);

  std::optional<std::string> read_file(std::string_view path,
                                       std::size_t limit = 4 << 20) const override;
  std::optional<std::string> read_link(std::string_view path) const override;
  bool exists(std::string_view path) const override;
  std::vector<std::string> list_dir(std::string_view path) const override;
  std::optional<FileInfo> info(std::string_view path) const override;
  std::string display(std::string_view path) const override;

  const std::filesystem::path& root() const { return root_; }
  bool is_live() const { return live_; }
  // Where `path` is on the host running tsfleet, every symlink resolved inside the root (the
  // last component's too when `follow_last`). nullopt when a symlink loop or too many hops.
  std::optional<std::filesystem::path> host_path(std::string_view path, bool follow_last) const;

 private:
  std::filesystem::path root_;
  bool live_ = false;
};

}  // namespace tsfleet::sys
