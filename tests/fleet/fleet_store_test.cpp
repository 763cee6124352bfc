// What a seat keeps of the fleet across restarts (agent/daemon/fleet/fleet_store.hpp): the signed
// document in force and the highest version applied, neither lost nor lowered by a crash.
#include "daemon/fleet/fleet_store.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "support/process.hpp"

using namespace seatlock;
namespace fs = std::filesystem;

TEST_CASE("the fleet store keeps the bundle in force and never lowers the highest version",
          "[fleet]") {
  const std::string state = seatlock::test::make_temp_dir("fleet-store");
  FleetStore store(state);
  CHECK(store.bundle().empty());
  CHECK(store.highest_version(0) == 0);

  store.save(R"({"bundle":{"version":7}})", 7);
  CHECK(store.bundle() == R"({"bundle":{"version":7}})");
  CHECK(store.highest_version(7) == 7);
  CHECK((fs::status(state + "/fleet/bundle.json").permissions() & fs::perms::others_read) ==
        fs::perms::none);

  SECTION("a crash after the bundle and before the version: the stored bundle's version holds") {
    std::ofstream(state + "/fleet/bundle.json") << R"({"bundle":{"version":9}})";
    CHECK(store.highest_version(9) == 9);
  }
  SECTION("an unreadable version file falls back to the stored bundle's version") {
    std::ofstream(state + "/fleet/highest-version") << "garbage";
    CHECK(store.highest_version(7) == 7);
  }
  SECTION("a later save replaces both; a leftover temp file changes nothing") {
    std::ofstream(state + "/fleet/bundle.json.tmp") << "half written";
    store.save(R"({"bundle":{"version":8}})", 8);
    CHECK(FleetStore(state).bundle() == R"({"bundle":{"version":8}})");
    CHECK(FleetStore(state).highest_version(0) == 8);
  }
  SECTION("a state directory that cannot be written is an error naming the path") {
    fs::remove_all(state + "/fleet");
    std::ofstream(state + "/fleet") << "a file where the directory should be";
    CHECK_THROWS_WITH(store.save("{}", 9), Catch::Contains(state + "/fleet"));
  }
  fs::remove_all(state);
}
