#include "core/event/event.hpp"

#include <catch2/catch.hpp>

using namespace seatlock;

namespace {
Event sample() {
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
  e.policy_sha256 = std::string(64, 'a');
  e.rule = "usb.classes";
  e.details = {{"vid", "0951"}, {"product", "DataTraveler 3.0 \xe2\x9c\x93"}};
  e.prev = kGenesisPrev;
  return e;
}
}  // namespace

TEST_CASE("an event survives to_json / event_from_json unchanged", "[event]") {
  Event e = sample();
  Event back;
  auto errors = event_from_json(nlohmann::json::parse(canonical_bytes(e)), back);
  REQUIRE(errors.empty());
  CHECK(back == e);
  CHECK(chain_hash(back) == chain_hash(e));
}

TEST_CASE("UUIDv7 carries the version, variant and timestamp", "[event]") {
  Event e = sample();
  REQUIRE(is_uuid(e.id));
  CHECK(e.id[14] == '7');
  CHECK((e.id[19] == '8' || e.id[19] == '9' || e.id[19] == 'a' || e.id[19] == 'b'));
  // First 48 bits are the millisecond timestamp, so ids sort by time.
  CHECK(std::stoull(e.id.substr(0, 8) + e.id.substr(9, 4), nullptr, 16) ==
        static_cast<unsigned long long>(e.time));
}

TEST_CASE("canonical bytes sort keys and change when any field changes", "[event]") {
  Event e = sample();
  std::string c = canonical_bytes(e);
  CHECK(c.find("{\"details\":") == 0);
  CHECK(c.find("\": ") == std::string::npos);
  CHECK(c.find(", \"") == std::string::npos);
  Event edited = e;
  edited.details["vid"] = "0952";
  CHECK(chain_hash(edited) != chain_hash(e));
}

TEST_CASE("malformed events are listed field by field", "[event]") {
  auto j = nlohmann::json::parse(canonical_bytes(sample()));
  j["severity"] = "urgent";
  j.erase("id");
  j["extra"] = 1;
  Event out;
  auto errors = event_from_json(j, out);
  REQUIRE(errors.size() == 3);
  CHECK(errors[0] == "/extra: unknown field");
  CHECK(errors[1] == "/id: required field is missing");
  CHECK(errors[2] ==
        "/severity: expected one of info, low, medium, high, critical, got \"urgent\"");
}

// The spool writes canonical bytes directly (no json object in between); the collector checks
// them with canonical_bytes(json). The two must agree byte for byte on every shape of event.
TEST_CASE("direct canonical bytes equal the json object's canonical dump", "[event]") {
  std::vector<Event> cases;
  cases.push_back(sample());
  Event bare;  // no user, mode, policy; null details
  bare.details = nullptr;
  cases.push_back(bare);
  Event only_rule = sample();
  only_rule.policy_sha256.clear();
  only_rule.user.reset();
  cases.push_back(only_rule);
  Event only_sha = sample();
  only_sha.rule.clear();
  only_sha.mode.clear();
  cases.push_back(only_sha);
  Event awkward = sample();
  awkward.hostname = "Z\xc3\xbcrich \"seat\" \\ 7\t\x01";
  awkward.seat_id = "\xe5\x8c\x97\xe4\xba\xac-03";
  awkward.kind = "net.egress_denied";
  awkward.user = UserRef{"o'brien \xf0\x9f\x98\x80", -1};
  awkward.details = {{"nested", {{"b", 1}, {"a", {1, 2.5, nullptr, true}}}},
                     {"ctl", std::string("\x7f\x1f")},
                     {"", ""}};
  awkward.seq = 18446744073709551615ull;
  cases.push_back(awkward);
  for (const Event& e : cases) CHECK(canonical_bytes(e) == canonical_bytes(to_json(e)));

  Event invalid = sample();
  invalid.hostname = "bad \xff utf-8";
  CHECK_THROWS(canonical_bytes(invalid));
  CHECK_THROWS(canonical_bytes(to_json(invalid)));
}
