#include <catch2/catch.hpp>

#include <map>
#include <optional>
#include <string>

#include "tsfleet/lint/module_reader.h"

using namespace tsfleet::lint;

namespace {

// Serves files from memory.
SourceReader memory(std::map<std::string, std::string> files) {
  return [files](const std::filesystem::path& p) -> std::optional<std::string> {
    auto it = files.find(p.lexically_normal().string());
    if (it == files.end()) return std::nullopt;
    return it->second;
  };
}

}  // namespace


TEST_CASE("plain, nested, mkIf, mkMerge and priorities") {
  auto set = read_module_set("h/configuration.nix", memory({{"h/configuration.nix", R"({ config, lib, pkgs, ... }:
let cfg = config.x; in
{
  services.tailscale.enable = true;
  services = { tailscale = { useRoutingFeatures = "both"; openFirewall = lib.mkDefault false; }; };
  networking.firewall = lib.mkIf cfg.enable {
    checkReversePath = lib.mkForce false;
    trustedInterfaces = [ "tailscale0" ];
  };
  imports = [ ./extra.nix ];
  boot.kernel.sysctl."net.ipv4.ip_forward" = lib.mkOverride 90 0;
  services.tailscale.extraUpFlags = lib.mkMerge [ [ "--ssh" ] (lib.mkIf false [ "--never" ]) ];
  services.tailscale.authKeyFile = ./secret;
  services.tailscale.port = cfg.port;
})"}, {"h/extra.nix", "{ networking.firewall.trustedInterfaces = [ \"br0\" ]; }"}}));
  INFO((set.problems.empty() ? "" : set.problems[0].message));
  REQUIRE(set.problems.empty());
  auto enable = set.effective("services.tailscale.enable");
  CHECK(enable.state == ModuleSet::Effective::State::known);
  CHECK(enable.value.is_true());
  CHECK(enable.definition->loc.line == 4);
  CHECK(enable.definition->loc.col == 22);
  CHECK(set.effective("services.tailscale.useRoutingFeatures").value.text == "both");
  auto of = set.effective("services.tailscale.openFirewall");
  CHECK(of.definition->priority == 1000);
  auto rp = set.effective("networking.firewall.checkReversePath");
  CHECK(rp.value.is_false());
  CHECK(rp.definition->priority == 50);
  CHECK(rp.conditional);
  auto ti = set.effective("networking.firewall.trustedInterfaces");
  REQUIRE(ti.state == ModuleSet::Effective::State::known);
  CHECK(ti.value.items.size() == 2);
  auto fwd = set.effective("boot.kernel.sysctl.\"net.ipv4.ip_forward\"");
  CHECK(fwd.definition->priority == 90);
  CHECK(fwd.value.integer == 0);
  auto up = set.effective("services.tailscale.extraUpFlags");
  REQUIRE(up.value.items.size() == 1);
  CHECK(up.value.items[0].text == "--ssh");
  CHECK(set.effective("services.tailscale.authKeyFile").value.kind == Value::Kind::path);
  CHECK(set.effective("services.tailscale.port").state == ModuleSet::Effective::State::unknown);
  CHECK(set.effective("services.tailscale.interfaceName").state == ModuleSet::Effective::State::absent);
}

TEST_CASE("explicit config modules, imports and conflicts") {
  auto set = read_module_set("h/configuration.nix", memory({
      {"h/configuration.nix", "{ ... }: { imports = [ ./ts.nix ../common ] ++ [ inputs.sops.nixosModules.sops ]; services.tailscale.port = 1; }"},
      {"h/ts.nix", "{ lib, config, ... }: { options.x = 1; config = lib.mkIf config.x { services.tailscale.port = 2; }; }"},
      {"common/default.nix", "{ services.tailscale.enable = true; imports = [ ./missing.nix ]; }"},
  }));
  CHECK(set.files == std::vector<std::string>{"h/configuration.nix", "h/ts.nix", "common/default.nix"});
  REQUIRE(set.unfollowed_imports.size() == 1);
  REQUIRE(set.problems.size() == 1);
  CHECK(set.problems[0].message == "cannot read common/missing.nix");
  auto port = set.effective("services.tailscale.port");
  CHECK(port.state == ModuleSet::Effective::State::conflict);
  CHECK(port.winners.size() == 2);
  CHECK(set.effective("services.tailscale.enable").value.is_true());
}

TEST_CASE("a file that does not parse is a problem with its position") {
  auto set = read_module_set("a.nix", memory({{"a.nix", "{ services.tailscale.enable = true }"}}));
  REQUIRE(set.problems.size() == 1);
  CHECK(set.problems[0].syntax);
  CHECK(set.problems[0].loc.line == 1);
}

TEST_CASE("definitions stay valid in copies of the set, after the original and the reader's input are gone") {
  std::optional<ModuleSet> copy;
  {
    std::string text =
        "{ lib, ... }: { services.tailscale = { enable = true; extraSetFlags = [ \"--accept-routes=true\" ]; };"
        " networking.hostName = \"h\"; boot.kernel.sysctl.\"net.ipv4.ip_forward\" = lib.mkForce 1; }";
    ModuleSet set = read_module_set("m.nix", [&](const std::filesystem::path&) -> std::optional<std::string> { return text; });
    copy = set;  // a copy: shares what the definitions point into
    text.assign(text.size(), '#');
  }
  const ModuleSet& set = *copy;
  REQUIRE(set.definitions.size() == 5);
  CHECK(set.definitions[0].option == "services.tailscale");
  CHECK(set.definitions[0].loc.file == "m.nix");
  CHECK(set.definitions[4].option == "boot.kernel.sysctl.\"net.ipv4.ip_forward\"");
  CHECK(set.definitions[4].path.back() == "net.ipv4.ip_forward");
  CHECK(set.definitions[4].priority == 50);
  const auto& flags = set.effective("services.tailscale.extraSetFlags");
  REQUIRE(flags.value.items.size() == 1);
  CHECK(flags.value.items[0].text == "--accept-routes=true");
  CHECK(set.effective("networking.hostName").value.text == "h");
}

TEST_CASE("queries: all, under and effective by definition agree with effective by name") {
  auto set = read_module_set("a.nix", memory({{"a.nix",
                                               "{ lib, ... }: { services.tailscale = lib.mkMerge [ { port = 1; enable = true; }"
                                               " { port = lib.mkDefault 2; } ]; services.tailscaled.x = 1; }"}}));
  REQUIRE(set.problems.empty());
  REQUIRE(set.definitions.size() == 6);
  CHECK(set.all("services.tailscale.port").size() == 2);
  CHECK(set.all("services.tailscale.nothing").empty());
  CHECK(set.defines("services.tailscale.enable"));
  CHECK_FALSE(set.defines("services.tailscale.nothing"));
  auto under = set.under("services.tailscale");  // not services.tailscaled, in source order
  REQUIRE(under.size() == 5);
  CHECK(under[0]->option == "services.tailscale");
  CHECK(under[1]->option == "services.tailscale.port");
  CHECK(under[4]->option == "services.tailscale.port");
  CHECK(set.defines_under("services.tailscaled"));
  CHECK_FALSE(set.defines_under("services.tails"));
  for (const auto& d : set.definitions) CHECK(&set.effective(d) == &set.effective(d.option));
  CHECK(set.effective("services.tailscale.port").value.integer == 1);
  CHECK(set.effective("services.tailscale.port").winners.size() == 1);
}
