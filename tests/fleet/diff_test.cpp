// fleet diff: which seats change and how their effective policy changes.
#include "core/fleet/diff.hpp"

#include <catch2/catch.hpp>

using namespace seatlock::fleet;
using nlohmann::json;

TEST_CASE("fleet diff lists changed, added and removed seats with each change", "[fleet]") {
  std::map<std::string, json> before = {
      {"cc-01", {{"network", {{"mode", "enforce"}, {"dns", {"10.0.0.53"}}}}}},
      {"cc-02", {{"network", {{"mode", "enforce"}}}}},
      {"cc-03", {{"network", {{"mode", "enforce"}}}}}};
  std::map<std::string, json> after = {
      {"cc-01", {{"network", {{"mode", "audit"}, {"dns", {"10.0.0.53", "10.0.0.54"}}}}}},
      {"cc-02", {{"network", {{"mode", "enforce"}}}}},
      {"cc-04", {{"network", {{"mode", "enforce"}}}}}};
  auto d = diff_fleet(before, after);
  REQUIRE(d.size() == 3);
  CHECK(d[0].seat == "cc-01");
  CHECK(d[0].kind == "changed");
  CHECK(d[0].lines == std::vector<std::string>{"+ /network/dns/1: \"10.0.0.54\"",
                                               "~ /network/mode: \"enforce\" -> \"audit\""});
  CHECK(d[1].seat == "cc-03");
  CHECK(d[1].kind == "removed");
  CHECK(d[2].seat == "cc-04");
  CHECK(d[2].kind == "added");
}
