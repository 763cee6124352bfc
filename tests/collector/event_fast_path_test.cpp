// The ingest fast path (simdjson) may only accept what the full nlohmann path accepts, with the
// same stored fields; everything else must fall through to the full path, which words the 400.
#include "event_fast_path.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "core/event/event.hpp"
#include "ingest.hpp"

using namespace seatlock;
using namespace seatlock::collector;

namespace {

Event sample_event() {
  Event e;
  const unsigned char r[10] = {9, 8, 7, 6, 5, 4, 3, 2, 1, 0};
  e.time = *parse_rfc3339("2026-11-28T14:03:11.123Z");
  e.id = make_uuid_v7(e.time, r);
  e.seq = 77;
  e.seat_id = "cc-bj-03-117";
  e.hostname = "seat117";
  e.user = UserRef{"zhang.wei", 1001};
  e.kind = "net.egress_denied";
  e.severity = "medium";
  e.outcome = "blocked";
  e.mode = "enforce";
  e.rule = "net.allow";
  e.policy_sha256 = std::string(64, 'b');
  e.details = {{"dst", "203.0.113.9"}, {"port", 443}, {"tags", {"a", "b"}}, {"n", nullptr}};
  e.prev = kGenesisPrev;
  return e;
}

// Same verdict as the full path whenever the fast path answers; returns whether it answered.
bool agrees(const std::string& line) {
  INFO(line);
  auto fast = fast_stored_event(line, 5);
  auto full = read_event_line(line, 1, 5);
  if (!fast) return false;
  const auto* s = std::get_if<StoredEvent>(&full);
  REQUIRE(s != nullptr);
  CHECK(fast->id == s->id);
  CHECK(fast->seat_id == s->seat_id);
  CHECK(fast->seq == s->seq);
  CHECK(fast->time_ms == s->time_ms);
  CHECK(fast->kind == s->kind);
  CHECK(fast->severity == s->severity);
  CHECK(fast->user_name == s->user_name);
  CHECK(fast->chain_hash == s->chain_hash);
  CHECK(fast->prev == s->prev);
  CHECK(fast->line == s->line);
  CHECK(fast->received_ms == s->received_ms);
  return true;
}

std::string with(const std::string& line, const std::string& from, const std::string& to) {
  auto at = line.find(from);
  REQUIRE(at != std::string::npos);
  return line.substr(0, at) + to + line.substr(at + from.size());
}

}  // namespace

TEST_CASE("fast path takes canonical event lines and stores what the full path stores",
          "[ingest]") {
  Event e = sample_event();
  CHECK(agrees(canonical_bytes(e)));
  e.user.reset();
  e.mode.clear();
  e.rule.clear();
  e.policy_sha256.clear();
  e.details = nlohmann::json::object();
  CHECK(agrees(canonical_bytes(e)));
}

TEST_CASE("fast path leaves every rule break and every non-canonical line to the full path",
          "[ingest]") {
  const std::string line = canonical_bytes(sample_event());
  const std::vector<std::string> bad = {
      with(line, "\"seq\":77", "\"seq\":0"),
      with(line, "\"seq\":77", "\"seq\":-77"),
      with(line, "\"seq\":77", "\"seq\":\"77\""),
      with(line, "\"seq\":77", "\"seq\":77.0"),
      with(line, "\"schema\":\"seatlock.event/1\"", "\"schema\":\"seatlock.event/2\""),
      with(line, "\"severity\":\"medium\"", "\"severity\":\"urgent\""),
      with(line, "\"kind\":\"net.egress_denied\"", "\"kind\":\"netegress\""),
      with(line, "\"uid\":1001", "\"uid\":\"1001\""),
      with(line, ",\"uid\":1001", ""),
      with(line, "\"user\":{\"name\":\"zhang.wei\",\"uid\":1001}", "\"user\":7"),
      with(line, "\"details\":{", "\"details\":[{"),
      with(line, "\"prev\":\"0", "\"prev\":\"A"),
      with(line, "\"time\":\"2026", "\"time\":\"x2026"),
      with(line, "\"id\":\"cc-bj-03-117\"", "\"id\":\"\""),
      with(line, "\"hostname\":\"seat117\"", "\"hostname\":117"),
      with(line, "\"policy\":{", "\"policy\":[{"),
      with(line, "\"outcome\":\"blocked\"", "\"outcome\":null"),
      with(line, "\"mode\":\"enforce\"", "\"mode\":1"),
      with(line, "\"prev\":", "\"zzz\":1,\"prev\":"),                          // unknown field
      with(line, "\"kind\":", "\"id\":\"x\",\"kind\":"),                       // duplicate key
      with(line, "\"outcome\":\"blocked\"", "\"outcome\":\"bl\\u006fcked\""),  // escape
      with(line, "\"outcome\":\"blocked\"", "\"outcome\" : \"blocked\""),      // white space
  };
  for (const auto& t : bad) {
    INFO(t);
    CHECK_FALSE(fast_stored_event(t, 5).has_value());
  }
}

TEST_CASE("fast path agrees with the full path on mutated lines", "[ingest]") {
  const std::string line = canonical_bytes(sample_event());
  std::mt19937 rng(11);
  const std::string inserts[] = {" ", "1", "-", "0", "\"", ",", ".", "{", "}", "[", "]", "e"};
  int fast_taken = 0;
  for (int i = 0; i < 5000; ++i) {
    std::string t = line;
    std::size_t at = rng() % t.size();
    if (rng() % 2)
      t.insert(at, inserts[rng() % std::size(inserts)]);
    else
      t.erase(at, 1 + rng() % 2);
    fast_taken += agrees(t) ? 1 : 0;
  }
  CHECK(fast_taken > 10);  // some mutations (in string values) keep a valid canonical event
}
