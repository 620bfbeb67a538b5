// Differential test of the Nix parser against the real nix-instantiate (2.8 on Debian): for every
// file of tests/fixtures/nix-corpus/{valid,invalid}, our parser accepts exactly what
// `nix-instantiate --parse` accepts, and rejects the rest at the same line:col with the same
// message. One nix process per file: a multi-file --parse stops at the first error.
#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "support/helpers.h"
#include "tsfleet/nix/parser.h"

using namespace tsfleet::testing;
namespace fs = std::filesystem;

namespace {

// Files where nix 2.8 differs from newer Nix, which we follow. Each is in valid/ (we accept it);
// the test checks that 2.8 still rejects it, so the list cannot go stale.
const std::map<std::string, std::string> kKnownDifferences = {
    {"knowndiff-merge-containers.nix",
     "nix 2.8 does not merge `a.b.c = ..; a = { b.d = ..; };` (attribute 'b' already defined); "
     "newer Nix merges nested attribute sets"},
    {"knowndiff-merge-services.nix", "same: services.tailscale.* plus services = { tailscale.* }"},
    {"knowndiff-merge-deep.nix", "same, three levels deep"},
    {"knowndiff-merge-networking.nix", "same: networking.firewall.* plus networking = { firewall.* }"},
};

struct NixVerdict {
  bool ok = false;
  int line = 0;
  int col = 0;
  std::string message;
};

// Parses nix's stderr: "error: MESSAGE\n\n       at FILE:L:C:\n..."
NixVerdict run_nix(const fs::path& file) {
  ProcessResult r = run_process({"nix-instantiate", "--parse", "--store", "dummy://", file.string()});
  NixVerdict v;
  v.ok = r.exit_code == 0;
  if (v.ok) return v;
  auto e = r.err.find("error: ");
  if (e != std::string::npos) {
    auto end = r.err.find('\n', e);
    v.message = r.err.substr(e + 7, end == std::string::npos ? std::string::npos : end - e - 7);
  }
  std::string marker = "at " + file.string() + ":";
  auto at = r.err.rfind(marker);
  if (at != std::string::npos) {
    std::sscanf(r.err.c_str() + at + marker.size(), "%d:%d", &v.line, &v.col);
  }
  return v;
}

std::vector<fs::path> corpus(const std::string& sub) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(source_dir() / "tests/fixtures/nix-corpus" / sub))
    if (e.path().extension() == ".nix") files.push_back(fs::absolute(e.path()));
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("nix differential: nix-instantiate is installed") {
  INFO("the differential test needs nix-instantiate on PATH (Debian: apt-get install nix-bin)");
  REQUIRE(have_program("nix-instantiate"));
}

TEST_CASE("nix differential: the corpus is large and split by nix's verdict") {
  CHECK(corpus("valid").size() + corpus("invalid").size() >= 300);
  CHECK(corpus("invalid").size() >= 100);
}

TEST_CASE("nix differential: same verdicts, positions and messages as nix-instantiate --parse") {
  REQUIRE(have_program("nix-instantiate"));
  int compared = 0;
  for (const std::string sub : {"valid", "invalid"}) {
    for (const auto& file : corpus(sub)) {
      INFO(file.string());
      std::string source = read_file(file);
      auto ours = tsfleet::nix::parse(source, file.string());
      NixVerdict nix = run_nix(file);
      ++compared;
      auto known = kKnownDifferences.find(file.filename().string());
      if (known != kKnownDifferences.end()) {
        INFO("known difference: " << known->second);
        CHECK(ours.ok());
        CHECK_FALSE(nix.ok);  // still a difference in this nix
        continue;
      }
      // The directory says what nix said when the corpus was generated.
      CHECK(nix.ok == (sub == "valid"));
      if (nix.ok) {
        INFO("ours: " << (ours.ok() ? "" : tsfleet::nix::format_error(ours.error)));
        CHECK(ours.ok());
        continue;
      }
      INFO("nix: " << nix.line << ":" << nix.col << ": " << nix.message);
      REQUIRE_FALSE(ours.ok());
      CHECK(ours.error.line == static_cast<uint32_t>(nix.line));
      CHECK(ours.error.col == static_cast<uint32_t>(nix.col));
      CHECK(ours.error.message == nix.message);
    }
  }
  CHECK(compared >= 300);
}
