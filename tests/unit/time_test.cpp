#include "core/util/time.hpp"

#include <catch2/catch.hpp>

using namespace seatlock;

TEST_CASE("RFC 3339 times round-trip through milliseconds", "[time]") {
  auto t = parse_rfc3339("2026-11-28T14:03:11.123Z");
  REQUIRE(t);
  CHECK(format_rfc3339_ms(*t) == "2026-11-28T14:03:11.123Z");
  auto beijing = parse_rfc3339("2026-11-28T22:03:11.123+08:00");
  REQUIRE(beijing);
  CHECK(*beijing == *t);
}

TEST_CASE("RFC 3339 without an offset or with bad fields is refused", "[time]") {
  CHECK_FALSE(parse_rfc3339("tomorrow"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T14:03:11"));
  CHECK_FALSE(parse_rfc3339("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339("2026-11-28T25:00:00Z"));
  CHECK(parse_rfc3339("2024-02-29T00:00:00Z"));
}

TEST_CASE("durations and byte sizes", "[time]") {
  CHECK(parse_duration_ms("90s") == 90'000);
  CHECK(parse_duration_ms("6h") == 6 * 3'600'000LL);
  CHECK(parse_duration_ms("1h30m") == 90 * 60'000LL);
  CHECK_FALSE(parse_duration_ms("90"));
  CHECK_FALSE(parse_duration_ms("soon"));
  CHECK(format_duration(5'400'000) == "1h30m");
  CHECK(parse_byte_size("256MiB") == (256ULL << 20));
  CHECK_FALSE(parse_byte_size("lots"));
}
