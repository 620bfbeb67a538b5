#pragma once
// File helpers shared by the module reader and run_check (internal to libtsfleet).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/lint/module_reader.h"
#include "tsfleet/nix/ast.h"

namespace tsfleet::lint::detail {

// Whether std::filesystem::path(s).lexically_normal() would return `s` unchanged: no empty, "."
// or ".." element and no trailing slash (the common case of paths given plainly).
bool plainly_normal(std::string_view s);

// The contents of the regular file `name` (relative to the directory `dirfd`, or AT_FDCWD),
// read with one open, one fstat and one read when the file keeps its size; nullopt when it cannot
// be opened or read or is not a regular file.
std::optional<std::string> read_regular_file(int dirfd, const char* name);

// lint::read_module_set() for a root (lexically normal) whose tree the caller has, as if it came
// from `cache` (which serves its imports).
ModuleSet read_module_set(const std::filesystem::path& root, std::shared_ptr<const nix::Ast> root_ast, const SourceReader& reader,
                          ParseCache* cache);

// lint::relative_imports() for a file named by a string (paths are made only for its imports).
std::vector<std::filesystem::path> relative_imports(std::string_view file, const nix::Ast& ast);

}  // namespace tsfleet::lint::detail
