// Replays stored inputs through the fuzz targets (see CMakeLists.txt): a target aborts on a
// broken invariant and the sanitizers (in the asan build) stop on memory errors, so a case
// fails exactly when its input would be a fuzzing finding again.
#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace fs = std::filesystem;

#define SEATLOCK_FUZZ_TARGETS(X) \
  X(fuzz_http_head)              \
  X(fuzz_http_chunked)           \
  X(fuzz_gzip)                   \
  X(fuzz_event)                  \
  X(fuzz_ingest_batch)           \
  X(fuzz_policy)                 \
  X(fuzz_control_request) X(fuzz_usb_sysfs) X(fuzz_uevent) X(fuzz_firmware) X(fuzz_eventlog)

#define DECLARE(name) extern "C" int name##_one_input(const std::uint8_t*, std::size_t);
SEATLOCK_FUZZ_TARGETS(DECLARE)

namespace {

using Entry = int (*)(const std::uint8_t*, std::size_t);

std::vector<fs::path> files_in(const fs::path& dir) {
  std::vector<fs::path> out;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file()) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

// Every stored input of `target`; returns how many ran.
std::size_t replay(const std::string& target, Entry entry) {
  std::size_t n = 0;
  for (const char* root : {SEATLOCK_FUZZ_REGRESSIONS, SEATLOCK_FUZZ_SEEDS}) {
    for (const auto& f : files_in(fs::path(root) / target)) {
      std::ifstream in(f, std::ios::binary);
      const std::string data((std::istreambuf_iterator<char>(in)),
                             std::istreambuf_iterator<char>());
      INFO("input " << f.string());
      CHECK(entry(reinterpret_cast<const std::uint8_t*>(data.data()), data.size()) == 0);
      ++n;
    }
  }
  return n;
}

}  // namespace

#define REPLAY_CASE(name)                                                    \
  TEST_CASE("fuzz regressions and seeds replay cleanly: " #name, "[fuzz]") { \
    CHECK(replay(#name, &name##_one_input) > 0);                             \
  }
SEATLOCK_FUZZ_TARGETS(REPLAY_CASE)
