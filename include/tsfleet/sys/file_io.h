#pragma once
// Reading and writing files the way tsfleet's users need: a write is atomic (temp file in the
// same directory, fsync, rename), so a crash or a full disk never leaves a half-written module.
#include <filesystem>
#include <optional>
#include <string>

namespace tsfleet::sys {

// The file's contents, or nullopt when it does not exist. Throws Error(io) naming the path when
// it exists but cannot be read.
std::optional<std::string> read_file_if_exists(const std::filesystem::path& path);

// Writes `content` to `path` atomically with mode 0644, creating parent directories. Throws
// Error(io) naming the path and the reason; on failure the old file (if any) is untouched and
// no temporary file is left behind.
void atomic_write_file(const std::filesystem::path& path, const std::string& content);

}  // namespace tsfleet::sys
