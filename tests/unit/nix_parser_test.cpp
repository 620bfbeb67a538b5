// Unit tests of the Nix parser: precedence and associativity, each construct, node positions,
// error positions and messages (nix's words), limits.
#include <catch2/catch.hpp>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "tsfleet/nix/parser.h"

using namespace tsfleet::nix;

namespace {

std::string printed(std::string_view src) {
  auto r = parse(src, "t.nix");
  if (!r.ok()) return "ERROR " + format_error(r.error);
  return to_string(r.ast->root());
}

std::string error_of(std::string_view src) {
  auto r = parse(src, "t.nix");
  if (r.ok()) return "OK";
  return std::to_string(r.error.line) + ":" + std::to_string(r.error.col) + " " + r.error.message;
}

}  // namespace

TEST_CASE("nix parser: operator precedence and associativity") {
  struct Case {
    const char* src;
    const char* expected;
  };
  const Case cases[] = {
      {"x: y: z: x + y * z", "(x: (y: (z: (x + (y * z)))))"},
      {"x: y: z: x - y - z", "(x: (y: (z: ((x - y) - z))))"},
      {"x: y: z: x // y // z", "(x: (y: (z: (x // (y // z)))))"},
      {"x: y: z: x ++ y ++ z", "(x: (y: (z: (x ++ (y ++ z)))))"},
      {"x: y: z: x -> y -> z", "(x: (y: (z: (x -> (y -> z)))))"},
      {"x: y: z: x || y && z", "(x: (y: (z: (x || (y && z)))))"},
      {"x: y: z: x == y || z", "(x: (y: (z: ((x == y) || z))))"},
      {"x: y: z: x < y == z", "(x: (y: (z: ((x < y) == z))))"},
      {"x: y: x // y == y", "(x: (y: ((x // y) == y)))"},
      {"x: y: !x // y", "(x: (y: ((! x) // y)))"},
      {"x: y: !x + y", "(x: (y: (! (x + y))))"},
      {"x: y: -x + y", "(x: (y: ((- x) + y)))"},
      {"x: y: x * y ++ y", "(x: (y: (x * (y ++ y))))"},
      {"x: -x ? a", "(x: (((- x)) ? a))"},
      {"x: !x ? a", "(x: (! ((x) ? a)))"},
      {"x: x ? a ? b", "(x: ((((x) ? a)) ? b))"},
      {"x: x ? a + 1", "(x: (((x) ? a) + 1))"},
      {"f: x: f x + f x", "(f: (x: ((f x) + (f x))))"},
      {"f: x: -f x", "(f: (x: (- (f x))))"},
      {"x: x.a.b or 1 2", "(x: ((x).a.b or (1) 2))"},
      {"x: x.a or x.b or 3", "(x: (x).a or ((x).b or (3)))"},
      {"2 - -1", "(2 - (- 1))"},
  };
  for (const auto& c : cases) {
    INFO(c.src);
    CHECK(printed(c.src) == c.expected);
  }
}

TEST_CASE("nix parser: constructs") {
  struct Case {
    const char* src;
    const char* expected;
  };
  const Case cases[] = {
      {"let a = 1; b = a; in b", "(let a = 1; b = a; in b)"},
      {"let { body = 1; }", "let { body = 1; }"},
      {"rec { a = b; b = 1; }", "rec { a = b; b = 1; }"},
      {"with builtins; map", "(with builtins; map)"},
      {"assert true; 1", "(assert true; 1)"},
      {"if true then 1 else 2", "(if true then 1 else 2)"},
      {"{ a, b ? 1, ... }: a", "({ a, b ? 1, ... }: a)"},
      {"{ a ? 1, ... }@args: args", "({ a ? 1, ... } @ args: args)"},
      {"args@{ a }: a", "({ a } @ args: a)"},
      {"{}: 1", "({  }: 1)"},
      {"x: { inherit x; inherit (x) a b; }", "(x: { inherit x ; inherit (x) a b ; })"},
      {"x: { a.b.\"c d\" = 1; ${x} = 2; }", "(x: { a.b.\"c d\" = 1; ${x} = 2; })"},
      {"{ ${\"a\"} = 1; }", "{ a = 1; }"},
      {"[ 1 2.5 \"s\" ]", "[ (1) (2.5) (\"s\") ]"},
      {"x: \"a${x}b\\n\\$\"", "(x: \"a${x}b\\n\\$\")"},
      {"''\n  a\n    b\n''", "\"a\\n  b\\n\""},
      {"''a''$ ''' ''\\nb''", "\"a\\$ '' \\nb\""},
      {"x: ./a/${x}.nix", "(x: ./a/${x}.nix)"},
      {"[ /etc ~/x <nixpkgs/lib> a/b https://x.org/a ]",
       "[ (/etc) (~/x) (<nixpkgs/lib>) (a/b) (\"https://x.org/a\") ]"},
      {"let or = 1; f = x: x; in f or", "(let or = 1; f = (x: x); in (f or))"},
      {"{ or = 1; }.or", "({ or = 1; }).or"},
      {"__curPos", "__curPos"},
      {"1.2.3", "(1.2 0.3)"},
      {"/* c */ 1 # d\n", "1"},
      {"{ a.b = 1; a = { c = 2; }; }", "{ a.b = 1; a = { c = 2; }; }"},
      {"{ a.b.c = 1; a = { b.d = 2; }; }", "{ a.b.c = 1; a = { b.d = 2; }; }"},  // newer Nix merges
  };
  for (const auto& c : cases) {
    INFO(c.src);
    CHECK(printed(c.src) == c.expected);
  }
}

TEST_CASE("nix parser: node kinds and values") {
  auto r = parse("{ config, lib, ... }: { services.tailscale.authKeyFile = \"/run/k\"; }", "m.nix");
  REQUIRE(r.ok());
  const auto* lam = r.ast->root().as<LambdaNode>();
  REQUIRE(lam);
  CHECK(lam->has_formals);
  CHECK(lam->ellipsis);
  REQUIRE(lam->formals.size() == 2);
  CHECK(lam->formals[1].name == "lib");
  CHECK(lam->formals[1].pos == Pos{1, 11});
  const auto* set = lam->body->as<AttrSetNode>();
  REQUIRE(set);
  REQUIRE(set->bindings.size() == 1);
  const Binding& b = set->bindings[0];
  CHECK(attr_path_to_string(b.path) == "services.tailscale.authKeyFile");
  CHECK(b.path[0].pos == Pos{1, 25});
  CHECK(b.path[1].pos == Pos{1, 34});
  CHECK(b.path[2].pos == Pos{1, 44});
  const auto* s = b.value->as<StringNode>();
  REQUIRE(s);
  CHECK(s->is_constant());
  CHECK(s->constant_value() == "/run/k");
  CHECK(s->pos == Pos{1, 58});
}

TEST_CASE("nix parser: positions count lines and byte columns like nix") {
  auto r = parse("let\n  a = 1;\r\n  b =\t\"\xc3\xa9\" + a;\n in b", "p.nix");
  REQUIRE(r.ok());
  const auto* let = r.ast->root().as<LetNode>();
  REQUIRE(let);
  CHECK(let->pos == Pos{1, 1});
  CHECK(let->bindings[0].pos == Pos{2, 3});
  CHECK(let->bindings[1].pos == Pos{3, 3});
  const auto* plus = let->bindings[1].value->as<BinaryOpNode>();
  REQUIRE(plus);
  CHECK(plus->op == BinaryOperator::Add);
  CHECK(plus->pos == Pos{3, 7});
  CHECK(plus->op_pos == Pos{3, 12});  // "é" is two bytes
  CHECK(plus->rhs->pos == Pos{3, 14});
  CHECK(let->body->pos == Pos{4, 5});
}

TEST_CASE("nix parser: errors at nix's position with nix's message") {
  struct Case {
    const char* src;
    const char* expected;
  };
  const Case cases[] = {
      {"{ a = 1 }", "1:9 syntax error, unexpected '}', expecting ';'"},
      {"let x = 1;\n", "1:11 syntax error, unexpected end of file"},
      {"{ a }", "1:5 syntax error, unexpected end of file, expecting ':' or '@'"},
      {"1 == 2 == 3", "1:8 syntax error, unexpected EQ"},
      {"[ -1 ]", "1:3 syntax error, unexpected '-'"},
      {"\"abc", "1:2 syntax error, unexpected end of file, expecting '\"'"},
      {"/* abc", "1:1 syntax error, unexpected '/'"},
      {"x: or", "1:4 syntax error, unexpected OR_KW"},
      {"$", "1:1 syntax error, unexpected invalid token"},
      {"{ a = 1; }.", "1:11 syntax error, unexpected end of file, expecting ID or OR_KW or DOLLAR_CURLY or '\"'"},
      {"(./a;)", "1:5 syntax error, unexpected ';', expecting ')'"},
      {"./a//b", "1:1 syntax error, unexpected PATH_END, expecting DOLLAR_CURLY"},
      {"./a/ ", "1:5 path has a trailing slash"},
      {"99999999999999999999", "1:1 invalid integer '99999999999999999999'"},
      {"1.0e999", "1:1 invalid float '1.0e999'"},
      {"{ a = 1; a = 2; }", "1:10 attribute 'a' already defined at t.nix:1:3"},
      {"{ inherit true; inherit true; }", "1:24 attribute 'true' already defined at t.nix:1:10"},
      {"{ a.b = 1; a = { b.c = 2; }; }", "1:3 attribute 'b' already defined at t.nix:1:18"},
      {"{ a = 1; a.b = 2; }", "1:10 attribute 'a.b' already defined at t.nix:1:3"},
      {"{a, a}: 1", "1:5 duplicate formal function argument 'a'"},
      {"{ a, ... }@a: a", "1:1 duplicate formal function argument 'a'"},
      {"let ${\"a\" + \"b\"} = 1; in 2", "1:1 dynamic attributes not allowed in let"},
      {"x: { inherit \"${x}\"; }", "1:14 dynamic attributes not allowed in inherit"},
      {"x: y", "1:4 undefined variable 'y'"},
      {"x: x-1", "1:4 undefined variable 'x-1'"},  // '-' is an identifier character
      {"map or", "1:1 undefined variable 'or'"},
      {"{ inherit zzz; }", "1:2 undefined variable 'zzz'"},
      {"\"abc\\", "1:5 syntax error, unexpected STR, expecting '\"'"},
      {"", "1:1 syntax error, unexpected end of file"},
  };
  for (const auto& c : cases) {
    INFO(c.src);
    CHECK(error_of(c.src) == c.expected);
  }
}

TEST_CASE("nix parser: undefined variables are fine under with, and can be ignored") {
  CHECK(error_of("with import <nixpkgs> { }; [ hello ]") == "OK");
  CHECK(error_of("x: rec { a = b; b = x; }") == "OK");
  ParseOptions lax;
  lax.check_undefined_variables = false;
  CHECK(parse("[ a b c ]", "t.nix", lax).ok());
}

TEST_CASE("nix parser: format_error renders file:line:col: error: message") {
  auto r = parse("{ a = 1 }", "hosts/x.nix");
  REQUIRE_FALSE(r.ok());
  CHECK(format_error(r.error) == "hosts/x.nix:1:9: error: syntax error, unexpected '}', expecting ';'");
}

TEST_CASE("nix parser: deep nesting is an error, not a stack overflow") {
  std::string deep(5000, '(');
  deep += "1";
  deep += std::string(5000, ')');
  auto r = parse(deep, "deep.nix");
  REQUIRE_FALSE(r.ok());
  CHECK(r.error.message.find("nested too deeply") != std::string::npos);

  std::string chain = "1";
  for (int i = 0; i < 5000; ++i) chain += " + 1";
  CHECK_FALSE(parse(chain, "chain.nix").ok());

  std::string nots(100000, '!');
  CHECK_FALSE(parse(nots + "true", "nots.nix").ok());

  std::string ok_nest(200, '[');
  ok_nest += std::string(200, ']');
  CHECK(parse(ok_nest, "ok.nix").ok());
}

TEST_CASE("nix parser: arbitrary bytes never crash") {
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk += static_cast<char>((i * 7919 + 13) % 256);
  auto r = parse(junk, "junk.nix");
  CHECK_FALSE(r.ok());
  std::string with_nul("1 + 2\0 garbage", 14);
  CHECK(parse(with_nul, "nul.nix").ok());  // like flex, a NUL byte ends the input
}

TEST_CASE("nix parser: the tree owns its texts (the source may go away)") {
  std::unique_ptr<Ast> ast;
  {
    std::string source = "{ a.\"b c\" = \"x\\ny\"; d = ./p/${e}/q; f = ''\n  g\n''; inherit h; i = j: j; }";
    ParseOptions options;
    options.check_undefined_variables = false;
    auto r = parse(source, std::string("owned.nix"), options);
    REQUIRE(r.ok());
    ast = std::move(r.ast);
    source.assign(source.size(), '#');  // the views must not point here
  }
  CHECK(ast->filename() == "owned.nix");
  CHECK(to_string(ast->root()) ==
        "{ a.\"b c\" = \"x\\ny\"; d = ./p/${e}/q; f = \"g\\n\"; inherit h ; i = (j: j); }");
  const auto* set = ast->root().as<AttrSetNode>();
  REQUIRE(set);
  REQUIRE(set->bindings.size() == 5);
  CHECK(set->bindings[0].path[1].name == "b c");
  CHECK(set->bindings[0].value->as<StringNode>()->constant_view() == "x\ny");
  CHECK(set->bindings[3].path[0].name == "h");
}

TEST_CASE("nix parser: arena allocation keeps alignment and grows past its first block") {
  Arena arena(64);
  std::vector<std::pair<char*, size_t>> blocks;
  for (size_t i = 1; i < 2000; i += 37) {
    auto* p = static_cast<char*>(arena.allocate(i, alignof(std::max_align_t)));
    CHECK(reinterpret_cast<uintptr_t>(p) % alignof(std::max_align_t) == 0);
    std::memset(p, static_cast<int>(i & 0xff), i);
    blocks.emplace_back(p, i);
  }
  auto* big = static_cast<char*>(arena.allocate(3 << 20, 8));  // larger than any block
  std::memset(big, 1, 3 << 20);
  for (const auto& [p, n] : blocks) CHECK(static_cast<unsigned char>(p[n - 1]) == (n & 0xff));
  CHECK(arena.copy(std::string_view("abc")) == "abc");
  CHECK(arena.copy(std::string_view()).empty());
  CHECK(arena.capacity() > (size_t{3} << 20));
}

TEST_CASE("nix parser: to_string_prefix is a prefix of to_string") {
  std::string src = "{ a = [ 1 2 3 ]; b = x: x + 1; c = \"long string ${toString 42} with text\"; d = { e.f.g = true; }; }";
  auto r = parse(src, "p.nix");
  REQUIRE(r.ok());
  std::string full = to_string(r.ast->root());
  for (size_t n : {size_t{0}, size_t{1}, size_t{10}, size_t{40}, full.size() - 1, full.size(), full.size() + 10})
    CHECK(to_string_prefix(r.ast->root(), n) == full.substr(0, n));
}
