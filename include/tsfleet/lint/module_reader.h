#pragma once
// Reads NixOS modules without evaluating them: every option definition they make, with its
// value where the source says it plainly, its priority (mkDefault, mkForce, mkOverride), whether
// it sits under lib.mkIf, and where it is. Follows `imports = [ ./x.nix ]` so a host's whole
// configuration is seen together. A value that needs evaluation is Kind::unknown, never guessed.
//
// Storage: definitions and values are plain views (std::string_view, std::span) into storage the
// ModuleSet shares with its copies: the parsed files it read and an arena for the texts it built.
// They stay valid as long as some copy of the set that made them.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tsfleet/nix/ast.h"

namespace tsfleet::lint {

struct SourceLoc {
  std::string_view file;  // owned by the ModuleSet's storage
  unsigned line = 0;
  unsigned col = 0;
};

struct Value {
  enum class Kind { unknown, null, boolean, integer, string, path, list, attrs };
  Kind kind = Kind::unknown;
  bool boolean = false;
  long long integer = 0;
  std::string_view text;      // string: the value (with ${...} as written when interpolated);
                              // path: as written; unknown: the expression, shortened
  bool interpolated = false;  // a string with ${...}: its exact value is unknown
  std::span<const std::string_view> ref;  // unknown: when it is `a.b.c` (a variable and static names), those names
  std::span<const Value> items;  // list
  SourceLoc loc;

  bool is_true() const { return kind == Kind::boolean && boolean; }
  bool is_false() const { return kind == Kind::boolean && !boolean; }
  bool is_plain_string() const { return kind == Kind::string && !interpolated; }
};

// Option paths are written canonically: elements joined by '.', elements that are not plain
// identifiers quoted: boot.kernel.sysctl."net.ipv4.ip_forward".
std::string join_option_path(std::span<const std::string_view> path);
std::string join_option_path(std::initializer_list<std::string_view> path);
// The same appended to `out`.
void append_option_path(std::string& out, std::span<const std::string_view> path);

struct Definition {
  std::span<const std::string_view> path;
  std::string_view option;   // join_option_path(path)
  Value value;
  int priority = 100;        // lower wins: mkForce 50, plain 100, mkDefault 1000, mkOptionDefault 1500
  bool conditional = false;  // under lib.mkIf whose condition is not literally true
  SourceLoc loc;             // of the option's name (the last element of its path)
};

struct ReadProblem {
  struct Loc {
    std::string file;
    unsigned line = 0;
    unsigned col = 0;
  } loc;
  std::string message;  // a syntax error, an unreadable import
  bool syntax = false;
};

// Reads a file's text; nullopt when it does not exist or cannot be read.
using SourceReader = std::function<std::optional<std::string>(const std::filesystem::path&)>;
SourceReader filesystem_reader();

// One root module and everything it imports.
struct ModuleSet {
  std::filesystem::path root;
  std::vector<std::string> files;  // every file read, root first, in import order
  std::vector<Definition> definitions;
  std::vector<ReadProblem> problems;
  std::vector<std::string> unfollowed_imports;  // imports that are not relative path literals

  // All definitions of `option`, in source order.
  std::vector<const Definition*> all(std::string_view option) const;
  // Whether `option` has a definition (all(option) is not empty).
  bool defines(std::string_view option) const;
  // All definitions of options under `prefix` (prefix itself included), in source order.
  std::vector<const Definition*> under(std::string_view prefix) const;
  // Whether under(prefix) is not empty.
  bool defines_under(std::string_view prefix) const;

  // The value NixOS would use, as far as the source says: the definitions at the winning
  // (lowest) priority. `known` when they agree on one known value (lists are concatenated).
  struct Effective {
    enum class State { absent, known, unknown, conflict } state = State::absent;
    Value value;
    const Definition* definition = nullptr;      // the (first) winning definition
    std::span<const Definition* const> winners;
    bool conditional = false;                    // some winner sits under mkIf
  };
  // Computed once per option; the reference stays valid until `definitions` changes.
  const Effective& effective(std::string_view option) const;
  // effective(d.option) for one of `definitions`, without looking the option up.
  const Effective& effective(const Definition& d) const;

  // What the views point into (the reader fills it; copies of the set share it).
  struct Storage {
    nix::Arena arena{4096};
    std::vector<std::shared_ptr<const nix::Ast>> asts;
  };
  std::shared_ptr<Storage> storage = std::make_shared<Storage>();

 private:
  // The definitions of each option as a group (first and last; next_ chains them in source
  // order), found by hash. Rebuilt when definitions change (queries are hot: every rule asks
  // several).
  // One buffer: slots (open addressing: group + 1, 0: empty), then per definition the next of
  // its option (+1, 0: none) and its group, then per group its first and last definition.
  mutable std::vector<uint32_t> index_;
  mutable size_t slot_count_ = 0;
  mutable size_t group_count_ = 0;
  uint32_t* slots() const noexcept { return index_.data(); }
  uint32_t* next() const noexcept { return index_.data() + slot_count_; }
  uint32_t* group_of() const noexcept { return index_.data() + slot_count_ + indexed_; }
  uint32_t* groups() const noexcept { return index_.data() + slot_count_ + 2 * indexed_; }  // first, last
  mutable size_t indexed_ = 0;
  mutable bool built_ = false;
  // effective() by group, computed on first use into storage's arena. A copy of the set starts
  // empty (the entries point into `definitions`); a move keeps them (the definitions move along).
  struct EffectiveCache {
    std::vector<const Effective*> by_group;
    EffectiveCache() = default;
    EffectiveCache(const EffectiveCache&) {}
    EffectiveCache(EffectiveCache&&) = default;
    EffectiveCache& operator=(const EffectiveCache&) {
      by_group.clear();
      return *this;
    }
    EffectiveCache& operator=(EffectiveCache&&) = default;
    ~EffectiveCache() = default;
  };
  mutable EffectiveCache effective_;
  static constexpr uint32_t kNoGroup = UINT32_MAX;
  // The group of `option`, or kNoGroup.
  uint32_t group(std::string_view option) const;
  const Effective& effective_of_group(uint32_t group) const;
  void ensure_index() const;
};

// Parsed files shared between reads, so a file is parsed once however many hosts import it.
struct ParseCache {
  std::unordered_map<std::string, std::shared_ptr<const nix::Ast>> asts;  // by lexically normal path
  std::unordered_map<std::string, ReadProblem> errors;                     // files that do not parse
};

// Reads `root` and its imports through `reader` (files are named by their lexically normal path;
// an in-memory reader can serve generated modules). A file that does not parse is a problem,
// not an exception; a file imported twice is read once.
ModuleSet read_module_set(const std::filesystem::path& root, const SourceReader& reader, ParseCache* cache = nullptr);

// The relative imports a file makes (resolved against its directory; a directory means its
// default.nix), for grouping files into hosts. Empty for a file that does not parse.
std::vector<std::filesystem::path> relative_imports(const std::filesystem::path& file, const std::string& text);
std::vector<std::filesystem::path> relative_imports(const std::filesystem::path& file, const nix::Ast& ast);

}  // namespace tsfleet::lint
