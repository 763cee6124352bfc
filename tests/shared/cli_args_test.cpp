// Flag errors as a user meets them, through the real binaries: a number with a sign is refused
// (std::stoull used to read "-1" as 18446744073709551615), and seatlockd says what is wrong with
// a flag instead of aborting on an exception.
#include <sys/wait.h>

#include <catch2/catch.hpp>
#include <filesystem>

#include "support/process.hpp"

using namespace seatlock::test;

TEST_CASE("seatlock-collector refuses a negative --limit instead of reading it as 2^64-1",
          "[args][cli]") {
  const std::string dir = make_temp_dir("args");
  auto r = run_command({binary_path("collector/seatlock-collector"), "query", "--db",
                        dir + "/events.db", "--limit", "-1"});
  std::filesystem::remove_all(dir);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.out, Catch::Contains("--limit: expected a non-negative integer, got \"-1\""));
}

TEST_CASE("seatlockd names a bad flag and exits 2", "[args][daemon]") {
  const std::string seatlockd = binary_path("agent/daemon/seatlockd");
  SECTION("a uid that is not a number") {
    auto r = run_command({seatlockd, "--control-uid", "abc"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out,
               Catch::Contains("--control-uid: expected a non-negative integer, got \"abc\""));
  }
  SECTION("a flag without its value") {
    auto r = run_command({seatlockd, "--state-dir"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out, Catch::Contains("--state-dir needs a value"));
  }
  SECTION("an unknown flag") {
    auto r = run_command({seatlockd, "--bogus"});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.out,
               Catch::Contains("unknown option --bogus") && Catch::Contains("usage: seatlockd"));
  }
}
