#pragma once
// Reads NixOS modules without evaluating them: every option definition they make, with its
// value where the source says it plainly, its priority (mkDefault, mkForce, mkOverride), whether
// it sits under lib.mkIf, and where it is. Follows `imports = [ ./x.nix ]` so a host's whole
// configuration is seen together. A value that needs evaluation is Kind::unknown, never guessed.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/nix/ast.h"

namespace tsfleet::lint {

struct SourceLoc {
  std::string file;
  unsigned line = 0;
  unsigned col = 0;
};

struct Value {
  enum class Kind { unknown, null, boolean, integer, string, path, list, attrs };
  Kind kind = Kind::unknown;
  bool boolean = false;
  long long integer = 0;
  std::string text;           // string: the value (with ${...} as written when interpolated);
                              // path: as written; unknown: the expression, shortened
  bool interpolated = false;  // a string with ${...}: its exact value is unknown
  std::vector<std::string> ref;  // unknown: when it is `a.b.c` (a variable and static names), those names
  std::vector<Value> items;   // list
  SourceLoc loc;

  bool is_true() const { return kind == Kind::boolean && boolean; }
  bool is_false() const { return kind == Kind::boolean && !boolean; }
  bool is_plain_string() const { return kind == Kind::string && !interpolated; }
};

// Option paths are written canonically: elements joined by '.', elements that are not plain
// identifiers quoted: boot.kernel.sysctl."net.ipv4.ip_forward".
std::string join_option_path(const std::vector<std::string>& path);

struct Definition {
  std::vector<std::string> path;
  std::string option;        // join_option_path(path)
  Value value;
  int priority = 100;        // lower wins: mkForce 50, plain 100, mkDefault 1000, mkOptionDefault 1500
  bool conditional = false;  // under lib.mkIf whose condition is not literally true
  SourceLoc loc;             // of the option's name (the last element of its path)
};

struct ReadProblem {
  SourceLoc loc;
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
  std::vector<const Definition*> all(const std::string& option) const;
  // All definitions of options under `prefix` (prefix itself included).
  std::vector<const Definition*> under(const std::string& prefix) const;

  // The value NixOS would use, as far as the source says: the definitions at the winning
  // (lowest) priority. `known` when they agree on one known value (lists are concatenated).
  struct Effective {
    enum class State { absent, known, unknown, conflict } state = State::absent;
    Value value;
    const Definition* definition = nullptr;      // the (first) winning definition
    std::vector<const Definition*> winners;
    bool conditional = false;                    // some winner sits under mkIf
  };
  // Computed once per option; the reference stays valid until `definitions` changes.
  const Effective& effective(const std::string& option) const;

 private:
  // Indexes into definitions sorted by (option, index): the definitions of an option are a
  // contiguous run. Rebuilt when definitions change (queries are hot: every rule asks several).
  mutable std::vector<uint32_t> index_;
  mutable size_t indexed_ = 0;
  mutable bool built_ = false;
  // effective() by the position in index_ of the first definition of the option, cleared with
  // index_. A copy of the set starts empty (the entries point into `definitions`); a move keeps
  // them (the definitions move along).
  struct EffectiveCache {
    std::vector<std::unique_ptr<Effective>> by_run;
    EffectiveCache() = default;
    EffectiveCache(const EffectiveCache&) {}
    EffectiveCache(EffectiveCache&&) = default;
    EffectiveCache& operator=(const EffectiveCache&) {
      by_run.clear();
      return *this;
    }
    EffectiveCache& operator=(EffectiveCache&&) = default;
    ~EffectiveCache() = default;
  };
  mutable EffectiveCache effective_;
  // The run of index_ holding the definitions of `option`.
  std::pair<size_t, size_t> run(std::string_view option) const;
  void ensure_index() const;
};

// Parsed files shared between reads, so a file is parsed once however many hosts import it.
struct ParseCache {
  std::map<std::string, std::shared_ptr<const nix::Ast>> asts;  // by lexically normal path
  std::map<std::string, ReadProblem> errors;                     // files that do not parse
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
