// The one flag parser (agent/core/util/args.hpp) of seatlockd and seatlock-collector: every
// flag declared, and each mistake named precisely.
#include "core/util/args.hpp"

#include <catch2/catch.hpp>

using namespace seatlock;

namespace {

ArgParser parse(const std::vector<std::string>& argv) {
  return ArgParser(argv, {"db", "limit", "since"}, {"json"});
}

}  // namespace

TEST_CASE("flags take values as --name value or --name=value, and the last one wins", "[args]") {
  const auto a = parse({"--db", "a.db", "--limit=5", "--json", "--db=b.db", "--since", ""});
  CHECK(a.get("db") == "b.db");
  CHECK(a.number("limit") == 5u);
  CHECK(a.has("json"));
  CHECK(a.get("since") == "");
  CHECK_FALSE(a.get("nothing"));
  CHECK_THROWS_WITH(a.require("since"), "--since is required");
  CHECK(parse({}).number("limit") == std::nullopt);
}

TEST_CASE("each mistake on the command line has its own message", "[args]") {
  CHECK_THROWS_AS(parse({"--bogus"}), UsageError);
  CHECK_THROWS_WITH(parse({"--bogus"}), "unknown option --bogus");
  CHECK_THROWS_WITH(parse({"--db"}), "--db needs a value");
  CHECK_THROWS_WITH(parse({"--json=yes"}), "--json takes no value");
  CHECK_THROWS_WITH(parse({"stray"}), "unexpected argument \"stray\"");
  CHECK_THROWS_WITH(parse({"-j"}), "unexpected argument \"-j\"");
}

TEST_CASE("numbers are plain digits: no sign, no blanks, nothing after", "[args]") {
  for (const char* bad : {"-1", "+1", " 5", "5 ", "5x", "", "0x10", "99999999999999999999"}) {
    INFO(bad);
    CHECK_THROWS_WITH(parse({"--limit", bad}).number("limit"),
                      std::string("--limit: expected a non-negative integer, got \"") + bad + "\"");
  }
  CHECK(parse({"--limit", "0"}).number("limit") == 0u);
  CHECK(parse({"--limit", "1000000"}).number("limit") == 1'000'000u);
}

TEST_CASE("times are RFC 3339 or a bare date at midnight UTC", "[args]") {
  CHECK(parse({"--since", "2026-11-28"}).time("since") == 1'795'824'000'000);
  CHECK(parse({"--since", "2026-11-28T00:00:01Z"}).time("since") == 1'795'824'001'000);
  CHECK_THROWS_WITH(parse({"--since", "yesterday"}).time("since"),
                    "--since: expected an RFC 3339 time or YYYY-MM-DD, got \"yesterday\"");
}
