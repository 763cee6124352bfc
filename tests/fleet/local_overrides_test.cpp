// Where a seat's local files make it run something the fleet did not publish
// (daemon/fleet/local_overrides): the pointers policy.applied carries as
// details.fleet.local_overrides and `fleet status` flags as local-edits.
#include "daemon/fleet/local_overrides.hpp"

#include <catch2/catch.hpp>

#include "core/fleet/verify.hpp"

using namespace seatlock;
using nlohmann::json;

namespace {

PolicyLoadOptions options() {
  PolicyLoadOptions o;
  o.now = *parse_rfc3339("2026-12-02T00:00:00Z");
  o.expired_is_error = false;
  return o;
}

const std::vector<PolicyFile> kFleet = {{"all/10-base.json", R"({"usb": {"mode": "audit"}})"}};

// What the seat runs (its real merge) and the overrides found in it.
std::vector<std::string> overrides(const std::vector<PolicyFile>& local) {
  PolicyLoadResult r = load_policy(fleet::seat_merge_order(local, kFleet), options());
  INFO((r.errors.empty() ? "" : r.errors.front().text()));
  REQUIRE(r.policy);
  auto o = local_overrides(r.policy->effective, local, kFleet, options());
  REQUIRE(o);
  return *o;
}

std::vector<PolicyFile> managed_seat() {
  return {
      {"00-default.json", R"({"firmware": {"mode": "audit"}, "usb": {"mode": "enforce"}})"},
      {"90-seat.json",
       R"({"report": {"seat_id": "cc-01", "fleet_keys": ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]}})"}};
}

}  // namespace

TEST_CASE("a seat with only its shipped default and install files runs what the fleet published",
          "[fleet][unit]") {
  CHECK(overrides(managed_seat()).empty());
}

TEST_CASE("local files that change the fleet's policy are named by pointer", "[fleet][unit]") {
  auto local = managed_seat();
  SECTION("a scalar the fleet set") {
    local.push_back({"60-local.json", R"({"usb": {"mode": "enforce"}})"});
    CHECK(overrides(local) == std::vector<std::string>{"/usb/mode"});
  }
  SECTION("the same value as the fleet's is no override") {
    local.push_back({"60-local.json", R"({"usb": {"mode": "audit"}})"});
    CHECK(overrides(local).empty());
  }
  SECTION("a local grant adds to a list: the list is named") {
    local.push_back({"70-grant.json",
                     R"({"usb": {"exceptions": [{"vid": "0781", "pid": "5581", "serial": "4C53",
        "until": "2030-01-01T00:00:00Z", "ticket": "LOCAL-1"}]}})"});
    CHECK(overrides(local) == std::vector<std::string>{"/usb/exceptions"});
  }
  SECTION("a setting beside the install keys of an install file counts too") {
    local[1].text =
        R"({"report": {"seat_id": "cc-01", "fleet_keys": ["AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="], "heartbeat": "1h"}})";
    CHECK(overrides(local) == std::vector<std::string>{"/report/heartbeat"});
  }
}
