// The console's filter and query-string parsing (console/filter.hpp, console/api.hpp).
#include <catch2/catch.hpp>

#include "console/api.hpp"
#include "console/filter.hpp"
#include "console/query_api.hpp"

using namespace seatlock::collector;
using namespace seatlock::collector::console;

TEST_CASE("parse_query decodes what a browser sends", "[console][filter]") {
  auto q = parse_query("/api/events?seat=cc%2D01&q=usb+stick&user=%E9%99%88&empty=&flag&x=%zz");
  CHECK(q["seat"] == "cc-01");
  CHECK(q["q"] == "usb stick");
  CHECK(q["user"] == "陈");
  CHECK(q["empty"] == "");
  CHECK(q.count("flag") == 1);
  CHECK(q["x"] == "%zz");  // a malformed escape is kept as written
  CHECK(parse_query("/api/events").empty());
}

TEST_CASE("parse_filter reads times in RFC 3339 with offset or milliseconds", "[console][filter]") {
  ConsoleFilter f;
  REQUIRE_FALSE(parse_filter({{"from", "2026-12-01T08:00:00+08:00"},
                              {"to", "1796126400000"},
                              {"seat", "cc-a"},
                              {"limit", "5"},
                              {"after", "x"},
                              {"format", "csv"}},
                             f));
  CHECK(f.since_ms == 1796083200000);  // 00:00Z
  CHECK(f.until_ms == 1796126400000);
  CHECK(f.seat == "cc-a");
  CHECK_FALSE(f.user);
}

TEST_CASE("parse_filter names the parameter that is wrong", "[console][filter]") {
  ConsoleFilter f;
  CHECK(parse_filter({{"to", "x"}}, f) ==
        std::string("to: expected RFC 3339 time or milliseconds, got \"x\""));
  // A time without an offset is ambiguous in a console used from several zones.
  CHECK(parse_filter({{"from", "2026-12-01T08:00:00"}}, f)->rfind("from:", 0) == 0);
  CHECK(parse_filter({{"severity", "urgent"}}, f)->rfind("severity:", 0) == 0);
  CHECK(parse_filter({{"sort", "asc"}}, f) == std::string("unknown parameter \"sort\""));
  CHECK(parse_filter({{"from", "2000"}, {"to", "1000"}}, f)->rfind("to:", 0) == 0);
  // Empty values (an empty form field) are no condition.
  CHECK_FALSE(parse_filter({{"seat", ""}, {"from", ""}}, f));
  CHECK_FALSE(f.seat);
}

TEST_CASE("matches checks columns, outcome and case-insensitive text", "[console][filter]") {
  StoredEvent e;
  e.seat_id = "cc-a";
  e.user_name = "alice";
  e.kind = "usb.blocked";
  e.severity = "high";
  e.time_ms = 1000;
  e.line = R"({"details":{"outcome":"allowed","product":"DataTraveler"},"outcome":"blocked"})";
  ConsoleFilter f;
  CHECK(matches(f, e));
  f.text = "datatraveler";
  CHECK(matches(f, e));
  f.outcome = "blocked";
  CHECK(matches(f, e));
  f.outcome = "allowed";  // only in details: not the event's outcome
  CHECK_FALSE(matches(f, e));
  f = ConsoleFilter{};
  f.since_ms = 1000;
  f.until_ms = 1001;
  CHECK(matches(f, e));
  f.since_ms = 1001;
  CHECK_FALSE(matches(f, e));
  f = ConsoleFilter{};
  f.user = "bob";
  CHECK_FALSE(matches(f, e));
}

TEST_CASE("cursors round-trip any seat id and reject forgeries", "[console][filter]") {
  EventStore::EventKey k{1796126400123, "座位 7/a.b", 42};
  auto back = decode_cursor(encode_cursor(k));
  REQUIRE(back);
  CHECK(back->time_ms == k.time_ms);
  CHECK(back->seat_id == k.seat_id);
  CHECK(back->seq == k.seq);
  CHECK_FALSE(decode_cursor("12.x.00"));
  CHECK_FALSE(decode_cursor("12.3.0"));
  CHECK_FALSE(decode_cursor("nothing"));
}
