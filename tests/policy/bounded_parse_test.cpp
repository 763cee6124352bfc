// parse_json_bounded: untrusted JSON is refused by size and nesting before a tree is built;
// the policy loader refuses a file nested deeper than any policy needs, with its position.
#include "core/json/bounded_parse.hpp"

#include <catch2/catch.hpp>

#include "core/policy/loader.hpp"

using namespace seatlock;

TEST_CASE("nesting deeper than the limit is refused with the byte where it happens",
          "[json][limits]") {
  nlohmann::json j;
  std::string ok = std::string(64, '[') + std::string(64, ']');
  CHECK_FALSE(parse_json_bounded(ok, j, {64, 1 << 20, false}));
  CHECK(j.is_array());

  std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto fail = parse_json_bounded(deep, j, {64, 1 << 20, false});
  REQUIRE(fail);
  CHECK(fail->kind == JsonParseFailure::Kind::too_deep);
  CHECK(fail->byte == 64);
  CHECK(fail->message == "JSON nests deeper than 64 levels (at byte 65)");
  CHECK(j.is_null());

  // Brackets inside strings (escaped quotes included) and comments do not count.
  std::string quoted = R"({"a":"[[[[\"[[[[","b":{"c":[1]}})";
  CHECK_FALSE(parse_json_bounded(quoted, j, {3, 1 << 20, false}));
  CHECK(j["b"]["c"][0] == 1);
  std::string commented = "// [[[[\n{\"a\": /* {{{{ */ [1]}";
  CHECK_FALSE(parse_json_bounded(commented, j, {2, 1 << 20, true}));
}

TEST_CASE("oversized and malformed JSON get precise reasons", "[json][limits]") {
  nlohmann::json j;
  auto big = parse_json_bounded(std::string(2000, ' ') + "1", j, {64, 1000, false});
  REQUIRE(big);
  CHECK(big->kind == JsonParseFailure::Kind::too_large);
  CHECK(big->message == "JSON text of 2001 bytes exceeds the limit of 1000 bytes");
  auto bad = parse_json_bounded("{\"a\": }", j);
  REQUIRE(bad);
  CHECK(bad->kind == JsonParseFailure::Kind::syntax);
  CHECK(bad->message.find("syntax error") != std::string::npos);
}

TEST_CASE("a policy file nested thousands deep is an error at its place, not a crash",
          "[policy][limits]") {
  std::string text = "{\n  \"usb\": {\"mode\": \"audit\",\n  \"x\": " + std::string(5000, '[') +
                     std::string(5000, ']') + "}}";
  PolicyLoadOptions o;
  PolicyLoadResult r = load_policy({{"00-deep.json", text}}, o);
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 3);
  CHECK(r.errors[0].text().find("nested deeper than 64 levels") != std::string::npos);
  CHECK_FALSE(r.policy);
}
