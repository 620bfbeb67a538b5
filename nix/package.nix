# Builds tsfleet with nixpkgs' toolchain and the same libraries as the Debian build.
{ lib
, stdenv
, cmake
, ninja
, pkg-config
, cli11
, nlohmann_json
, fmt
, spdlog
, httplib
, catch2
, nix
}:

stdenv.mkDerivation {
  pname = "tsfleet";
  version = "0.1.0";

  src = lib.cleanSource ./..;

  # cmake --install puts the binary, the generated completions (bash, zsh, fish) and the man
  # page in $out (see the top-level CMakeLists.txt).
  nativeBuildInputs = [ cmake ninja pkg-config ];
  buildInputs = [ cli11 nlohmann_json fmt spdlog httplib ];
  nativeCheckInputs = [ catch2 nix ];

  cmakeFlags = [
    "-DTSFLEET_WERROR=ON"
    "-DTSFLEET_BUILD_BENCH=OFF"
    "-DTSFLEET_BUILD_TESTS=${if stdenv.buildPlatform.canExecute stdenv.hostPlatform then "ON" else "OFF"}"
  ];

  # The integration tests need network namespaces and a writable Nix store: run the unit tests.
  doCheck = true;
  checkPhase = ''
    runHook preCheck
    ./tests/tsfleet_unit_tests
    runHook postCheck
  '';

  meta = {
    description = "Configure, check, connect, test, watch and diagnose Tailscale on a fleet of NixOS machines";
    license = lib.licenses.asl20;
    platforms = lib.platforms.linux;
    mainProgram = "tsfleet";
  };
}
