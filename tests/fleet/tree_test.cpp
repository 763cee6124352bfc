// The fleet tree as each seat merges it: groups.json, the order of all/ < groups < seats/<id>,
// and errors placed at file:line:column with the seats they affect.
#include "core/fleet/tree.hpp"

#include <catch2/catch.hpp>

#include "core/fleet/group_map.hpp"

using namespace seatlock;
using namespace seatlock::fleet;

namespace {

PolicyLoadOptions opts() {
  PolicyLoadOptions o;
  o.now = 1'800'000'000'000;  // 2027-01-15
  return o;
}

FleetTree sample_tree() {
  FleetTree t;
  t.groups_file = {"groups.json", R"({"seats": ["cc-0101"],
 "groups": [{"name": "site-par", "match": ["cc-*"]},
            {"name": "floor-2", "match": ["cc-02??"], "seats": ["cc-0999"]}]})"};
  t.all = {{"all/10-base.json", R"({"usb": {"mode": "enforce"}})"}};
  t.groups["site-par"] = {{"groups/site-par/20-site.json", R"({"usb": {"mode": "audit"}})"}};
  t.groups["floor-2"] = {{"groups/floor-2/30-floor.json", R"({"network": {"mode": "audit"}})"}};
  t.seats["cc-0201"] = {{"seats/cc-0201/90-seat.json", R"({"network": {"mode": "enforce"}})"}};
  return t;
}

std::vector<std::string> names(const SeatFiles& s) {
  std::vector<std::string> out;
  for (const auto& f : s.files) out.push_back(f.name);
  return out;
}

const SeatFiles& seat(const FleetPlan& p, const std::string& id) {
  for (const auto& s : p.seats)
    if (s.seat == id) return s;
  FAIL("no seat " << id);
  throw 0;
}

}  // namespace

TEST_CASE("seat-id globs match whole ids", "[fleet]") {
  CHECK(seat_glob_match("cc-02*", "cc-0201"));
  CHECK(seat_glob_match("cc-02??", "cc-0201"));
  CHECK_FALSE(seat_glob_match("cc-02??", "cc-02011"));
  CHECK(seat_glob_match("*-01", "par-cc-01"));
  CHECK_FALSE(seat_glob_match("cc-02*", "xcc-0201"));
  CHECK(seat_glob_match("*", "a"));
  CHECK(seat_glob_match("a*b*c", "aXXbYYc"));
  CHECK_FALSE(seat_glob_match("a*b*c", "aXXbYY"));
}

TEST_CASE("every seat gets all/, then its groups in groups.json order, then its own files",
          "[fleet]") {
  FleetPlan p = plan_fleet(sample_tree());
  REQUIRE(p.errors.empty());
  // Seats: the inventory, explicit lists and seats/ directories.
  REQUIRE(p.seats.size() == 3);
  CHECK(names(seat(p, "cc-0101")) ==
        std::vector<std::string>{"all/10-base.json", "groups/site-par/20-site.json"});
  CHECK(seat(p, "cc-0201").groups == std::vector<std::string>{"site-par", "floor-2"});
  CHECK(names(seat(p, "cc-0201")) ==
        std::vector<std::string>{"all/10-base.json", "groups/site-par/20-site.json",
                                 "groups/floor-2/30-floor.json", "seats/cc-0201/90-seat.json"});
  CHECK(seat(p, "cc-0999").groups == std::vector<std::string>{"site-par", "floor-2"});

  check_fleet(p, opts());
  CHECK(p.errors.empty());
}

TEST_CASE("fleet check reports each problem once, where it was written, naming the seats",
          "[fleet]") {
  FleetTree t = sample_tree();
  t.groups["floor-2"] = {
      {"groups/floor-2/30-floor.json", "{\n  \"network\": {\"mode\": \"of\"}\n}"}};
  FleetPlan p = plan_fleet(t);
  check_fleet(p, opts());
  REQUIRE(p.errors.size() == 1);
  CHECK(p.errors[0].text() ==
        "groups/floor-2/30-floor.json:2:23: /network/mode: expected \"enforce\" or \"audit\", got "
        "\"of\" (seats cc-0201, cc-0999)");
}

TEST_CASE("a conflict that only exists in one seat's merge is reported for that seat", "[fleet]") {
  FleetTree t = sample_tree();
  // The same device granted twice with different expiry: only where both files meet.
  t.groups["site-par"] = {{"groups/site-par/20-site.json", R"({"usb": {"exceptions": [
    {"vid": "0781", "pid": "5581", "until": "2027-03-01T00:00:00Z", "ticket": "IT-1"}]}})"}};
  t.seats["cc-0201"] = {{"seats/cc-0201/90-seat.json", R"({"usb": {"exceptions": [
    {"vid": "0781", "pid": "5581", "until": "2027-04-01T00:00:00Z", "ticket": "IT-1"}]}})"}};
  FleetPlan p = plan_fleet(t);
  check_fleet(p, opts());
  REQUIRE_FALSE(p.errors.empty());
  for (const auto& e : p.errors) CHECK(e.seats == std::vector<std::string>{"cc-0201"});
  CHECK(p.errors[0].text().find("seats/cc-0201/90-seat.json:") == 0);
}

TEST_CASE("the tree itself: unknown group directories, bad groups.json, local-only keys",
          "[fleet]") {
  SECTION("a group directory with no group in groups.json reaches nobody: an error") {
    FleetTree t = sample_tree();
    t.groups["floor-3"] = {{"groups/floor-3/a.json", "{}"}};
    FleetPlan p = plan_fleet(t);
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].text().find("groups/floor-3: no group of this name in groups.json") == 0);
  }
  SECTION("groups.json errors carry line and column") {
    FleetTree t = sample_tree();
    t.groups_file.text =
        "{\"groups\": [\n  {\"name\": \"a b\", \"match\": [\"x\"]},\n  {\"nam\": \"c\"}\n]}";
    FleetPlan p = plan_fleet(t);
    REQUIRE(p.errors.size() >= 2);
    CHECK(p.errors[0].text().find("groups.json:2:12: /groups/0/name: expected a group name") == 0);
    bool unknown = false;
    for (const auto& e : p.errors)
      unknown = unknown || e.text().find("groups.json:3:4: /groups/1/nam") == 0;
    CHECK(unknown);
  }
  SECTION("a fleet file may not set the seat id, pinned keys or the collector") {
    FleetTree t = sample_tree();
    t.all.push_back(
        {"all/20-report.json", "{\"report\": {\n  \"collector\": \"https://evil.example\"}}"});
    FleetPlan p = plan_fleet(t);
    check_fleet(p, opts());
    REQUIRE(p.errors.size() == 1);
    CHECK(p.errors[0].text().find("all/20-report.json:2:3: /report/collector: only a seat's local "
                                  "policy files may set this") == 0);
  }
  SECTION("a group that matches no seat is a warning") {
    FleetTree t = sample_tree();
    t.groups_file.text = R"({"groups": [{"name": "empty", "match": ["zz-*"]}]})";
    t.groups.clear();
    FleetPlan p = plan_fleet(t);
    REQUIRE(p.warnings.size() == 1);
    CHECK(p.warnings[0].text() == "groups.json: group empty matches no known seat");
  }
}
