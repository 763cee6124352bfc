// Replays the DNS guard's fuzz seeds and past findings (bench/fuzz/seeds/fuzz_dns,
// tests/dns/fuzz_findings if any) through the fuzz target's own entry function, in the default
// test run, with the normal compiler and without libFuzzer.
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int fuzz_dns_one_input(const std::uint8_t*, std::size_t);

TEST_CASE("the DNS guard's fuzz seeds and findings keep their invariants", "[dns][fuzz]") {
  namespace fs = std::filesystem;
  std::size_t inputs = 0;
  for (const char* dir : {SEATLOCK_FUZZ_SEEDS "/fuzz_dns", SEATLOCK_DNS_FINDINGS}) {
    if (!fs::is_directory(dir)) continue;
    for (const auto& f : fs::directory_iterator(dir)) {
      std::ifstream in(f.path(), std::ios::binary);
      std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
      INFO(f.path());
      CHECK(fuzz_dns_one_input(bytes.data(), bytes.size()) == 0);
      ++inputs;
    }
  }
  CHECK(inputs >= 3);
  // Truncations of every seed too (the guard reads whatever arrives in one datagram).
  for (const auto& f : fs::directory_iterator(SEATLOCK_FUZZ_SEEDS "/fuzz_dns")) {
    std::ifstream in(f.path(), std::ios::binary);
    std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    for (std::size_t n = 0; n < bytes.size(); ++n) CHECK(fuzz_dns_one_input(bytes.data(), n) == 0);
  }
}
