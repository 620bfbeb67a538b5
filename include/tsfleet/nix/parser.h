#pragma once
// A hand-written lexer and parser for the Nix language as Nix 2.x accepts it (see docs/nix-parser.md).
//
// Contract:
// - parse() never throws on bad input (only std::bad_alloc can escape) and never crashes: it
//   returns either the AST or the first error, at the position nix reports it.
// - The checks nix makes while parsing are made too: syntax, duplicate attributes ("attribute 'x'
//   already defined at f:1:3"), duplicate formals, dynamic attributes in let/inherit, invalid
//   numbers, paths with a trailing slash and, like `nix-instantiate --parse`, undefined variables
//   (any variable is defined under a `with`). Attribute sets written partly with dotted paths and
//   partly literally are merged like newer Nix does (2.8 rejects some of these).
// - Error messages use nix's words where practical, e.g. "syntax error, unexpected '=',
//   expecting ';'".
// - Nesting deeper than ParseOptions::max_depth (parentheses, lambdas, operators, ...) is an
//   error, not a stack overflow.
// - The source is only read during the call; the Ast owns copies of what it needs (unless
//   ParseOptions::copy_source is false).
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "tsfleet/nix/ast.h"

namespace tsfleet::nix {

struct SyntaxError {
  std::string filename;
  uint32_t line = 1;
  uint32_t col = 1;
  std::string message;  // without the position, e.g. "syntax error, unexpected end of file"
};

// "file:line:col: error: message"
std::string format_error(const SyntaxError& error);

struct ParseResult {
  std::unique_ptr<Ast> ast;           // set on success
  SyntaxError error;                  // meaningful when !ok()
  bool ok() const noexcept { return ast != nullptr; }
};

struct ParseOptions {
  // Report variables that are bound neither by the file nor by nix's builtin scope, like nix does.
  bool check_undefined_variables = true;
  // Deepest nesting accepted (parser recursion and AST depth).
  uint32_t max_depth = 1000;
  // The Ast copies the source and its texts point into the copy. false: they point into
  // `source` itself, which the caller then keeps (unchanged) as long as the Ast.
  bool copy_source = true;
};

ParseResult parse(std::string_view source, std::string_view filename);
ParseResult parse(std::string_view source, std::string_view filename, const ParseOptions& options);

// Whether `name` is in scope in every nix file (true, builtins, map, __add, ...), as in nix 2.8.
bool is_builtin_name(std::string_view name) noexcept;

}  // namespace tsfleet::nix
