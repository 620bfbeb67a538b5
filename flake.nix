{
  description = "tsfleet: Tailscale on a fleet of NixOS machines";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (pkgs: rec {
        tsfleet = pkgs.callPackage ./nix/package.nix { };
        default = tsfleet;
      });

      # services.tsfleet: the monitor service and the health-check timer (nix/module.nix).
      nixosModules.default = import ./nix/module.nix;

      devShells = forAllSystems (pkgs: {
        default = pkgs.mkShell {
          inputsFrom = [ self.packages.${pkgs.system}.tsfleet ];
          packages = [ pkgs.clang-tools pkgs.just pkgs.prometheus ];
        };
      });
    };
}
