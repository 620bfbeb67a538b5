#pragma once
// A JSON reader that remembers where every value came from, so that a fleet-file error can name
// file:line:column and the JSON path (`hosts.p620.routes[1]`). nlohmann_json has no positions and
// silently keeps the last of duplicate keys; this reader reports duplicates as errors.
#include <map>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace tsfleet {

struct SourcePos {
  int line = 0;  // 1-based; 0 means unknown
  int col = 0;   // 1-based, in bytes
};

struct JsonDocument {
  std::string filename;
  nlohmann::json value;
  // For every value in the document, keyed by its JSON path (see json_path_*): where the value
  // starts, and for object members where the key starts.
  struct Place {
    SourcePos key;
    SourcePos value;
  };
  std::map<std::string, Place> places;

  // The position of the value at `path`, or of its nearest ancestor that has one.
  SourcePos value_pos(const std::string& path) const;
  // The position of the key of the member at `path` (falls back to value_pos).
  SourcePos key_pos(const std::string& path) const;
  // "file:line:col" for the value (or key) at path.
  std::string where(const std::string& path, bool at_key = false) const;
};

// Parses `text` (strict RFC 8259 JSON; duplicate keys rejected; nesting limited to 256 levels).
// Throws tsfleet::Error(input) naming filename:line:col and what is wrong. Never crashes on any
// input.
JsonDocument parse_json_document(std::string_view text, std::string_view filename);

// JSON path helpers: json_path_member("hosts", "p620") == "hosts.p620";
// json_path_index("hosts.p620.routes", 1) == "hosts.p620.routes[1]". Keys that are not simple
// identifiers are written as ["key"].
std::string json_path_member(const std::string& parent, const std::string& key);
std::string json_path_index(const std::string& parent, size_t index);

}  // namespace tsfleet
