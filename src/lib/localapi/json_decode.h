#pragma once
// A small schema-driven decoder on top of nlohmann's SAX interface (private to libtsfleet).
//
// Why SAX and not the DOM: a status document of 50,000 peers is ~80 MB; the DOM would cost several
// times that and be slow. The SAX events are routed straight into the typed structs through
// static per-type field tables, so the only allocations are the result's own strings.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tsfleet/localapi/types.h"

namespace tsfleet::localapi::detail {

enum class Kind : std::uint8_t {
  string,       // std::string
  opt_string,   // std::optional<std::string>
  boolean,      // bool
  opt_boolean,  // std::optional<bool>
  int64,        // std::int64_t
  opt_int64,    // std::optional<std::int64_t>
  float64,      // double
  string_list,  // std::vector<std::string>
  object,       // nested struct: member() gives it, or emplace(member(), "") engages an optional
  object_map,   // std::map<std::string, T>: emplace(container, key) gives the element
  object_list,  // std::vector<T>: emplace(container, "") appends
  key_list,     // an object whose keys are collected into std::vector<std::string>
};

struct Schema;

struct Field {
  std::string_view key;
  Kind kind;
  void* (*member)(void* obj);
  const Schema* nested = nullptr;
  void* (*emplace)(void* container, std::string&& key) = nullptr;
  // object_map only: called when an element's object ends (lets a caller stream elements).
  void (*finish)(void* container, void* element, const std::string& key) = nullptr;
};

struct Schema {
  std::string_view name;
  std::vector<Field> fields;
  const Field* find(std::string_view key) const noexcept {
    for (const auto& f : fields)
      if (f.key.size() == key.size() && f.key == key) return &f;
    return nullptr;
  }
};

// Decodes `json` into `*root` (an object of `schema`). Throws tsfleet::Error (daemon) on a syntax
// error naming `what`; wrong-typed keys go to `warnings` (may be null).
void decode(std::string_view json, const Schema& schema, void* root, std::string_view what,
            ParseWarnings* warnings);

}  // namespace tsfleet::localapi::detail
