#pragma once
// Shared bits of the seat-side TPM tests: opening the adapter on a fixture's swtpm, running
// tpm2-tools against it (tests only), files.
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <string>
#include <vector>

#include "os/tpm/attestor.hpp"
#include "support/process.hpp"
#include "tpm/swtpm_fixture.hpp"

namespace seatlock::test {

inline std::unique_ptr<tpm::TpmAttestor> open_seat(const Swtpm& swtpm, const std::string& state) {
  auto r = tpm::open_tpm_attestor({swtpm.tcti(), state, state + "/binary_bios_measurements"});
  INFO((r ? std::string() : r.error().code + ": " + r.error().reason));
  REQUIRE(r.ok());
  return std::move(*r);
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A tpm2-tools command that must succeed ("--tcti none" stays as given).
inline std::string tpm2(std::vector<std::string> argv) {
  auto r = run_command(argv);
  INFO(argv[0] << " output: " << r.out);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

inline int file_mode(const std::string& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

}  // namespace seatlock::test
