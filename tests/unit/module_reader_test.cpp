#include <catch2/catch.hpp>

#include <map>

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
