// is_canonical_text must answer exactly canonical_bytes(parse(text)) == text: the collector
// hashes a line's own bytes when it says yes, so a wrong yes would break every chain after it.
#include "core/event/canonical_check.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/event/event.hpp"

using namespace seatlock;
using nlohmann::json;

namespace {

bool by_dump(const std::string& text) {
  return canonical_bytes(json::parse(text)) == text;
}

std::string event_line() {
  Event e;
  const unsigned char r[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
  e.time = *parse_rfc3339("2026-11-28T14:03:11.123Z");
  e.id = make_uuid_v7(e.time, r);
  e.seq = 1042;
  e.seat_id = "cc-bj-03-117";
  e.hostname = "seat117";
  e.user = UserRef{"zhang.wei", 1001};
  e.kind = "usb.blocked";
  e.severity = "high";
  e.outcome = "blocked";
  e.mode = "enforce";
  e.rule = "usb.classes";
  e.details = {{"vid", "0951"}, {"ports", {1, 2, -3}}, {"ok", true}, {"none", nullptr}};
  e.prev = kGenesisPrev;
  return canonical_bytes(e);
}

}  // namespace

TEST_CASE("canonical check agrees with re-serialising on hand-picked texts", "[event]") {
  const std::vector<std::string> texts = {
      event_line(),
      R"({"a":1,"b":2})",
      R"({"b":1,"a":2})",   // keys out of order
      R"({"a":1,"a":2})",   // duplicate key
      R"({"a":1, "b":2})",  // white space
      R"( {"a":1})",        // leading white space
      R"({"a":-0})",        // -0 is written back as 0
      R"({"a":0})",
      R"({"a":-12})",
      R"({"a":1.5})",  // fractions go the slow way
      R"({"a":1e3})",
      R"({"a":10000000000000000000})",   // beyond int64, within uint64
      R"({"a":100000000000000000000})",  // beyond uint64: a double
      R"({"a":"\u0041"})",               // escape that dump would not write
      R"({"a":"\n"})",                   // escape that dump writes the same
      R"({"a":"\/"})",
      R"({"a":"é"})",  // UTF-8 kept as is
      R"({"a":"\u00e9"})",
      R"({"":1,"a":{}})",  // empty key first
      R"({"a":{},"b":[]})",
      R"({"a":[{"y":1,"x":2}]})",  // unsorted keys inside an array
      R"({"a":[{"x":1},{"x":2}],"b":{"c":{"d":[true,false,null]}}})",
      R"({"a":{"z":1},"b":1})",  // nested object's key must not leak out
      R"({"B":1,"a":1})",        // byte order: upper case first
      R"({"a":1,"B":1})",
      R"([1,2,3])",
      R"("x")",
      R"(42)",
  };
  for (const auto& t : texts) {
    INFO(t);
    CHECK(is_canonical_text(t, json::parse(t)) == by_dump(t));
  }
}

TEST_CASE("canonical check agrees with re-serialising on mutated event lines", "[event]") {
  const std::string line = event_line();
  REQUIRE(is_canonical_text(line, json::parse(line)));
  std::mt19937 rng(7);
  const std::string inserts[] = {" ", "\n", "\\u0041", "1", "-", "0", "\"", ",", "."};
  int checked = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string t = line;
    std::size_t at = rng() % t.size();
    if (rng() % 2)
      t.insert(at, inserts[rng() % std::size(inserts)]);
    else
      t.erase(at, 1 + rng() % 3);
    json j = json::parse(t, nullptr, false);
    if (j.is_discarded()) continue;
    INFO(t);
    CHECK(is_canonical_text(t, j) == by_dump(t));
    ++checked;
  }
  CHECK(checked > 100);
}
