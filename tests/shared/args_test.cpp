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

TEST_CASE("a repeated flag keeps every value in order for commands that take lists", "[args]") {
  const auto a = parse({"--db", "a.db", "--db=b.db", "--db", "c.db"});
  CHECK(a.all("db") == std::vector<std::string>{"a.db", "b.db", "c.db"});
  CHECK(a.get("db") == "c.db");
  CHECK(a.all("limit").empty());
}

TEST_CASE("positional arguments may sit among the flags, up to the number a command takes",
          "[args]") {
  ArgSpec spec;
  spec.valued = {"trusted-key"};
  spec.switches = {"json"};
  spec.max_positional = 2;
  const ArgParser a({"a.json", "--trusted-key", "K1", "b.json", "--json"}, spec);
  CHECK(a.positional() == std::vector<std::string>{"a.json", "b.json"});
  CHECK(a.get("trusted-key") == "K1");
  CHECK(a.has("json"));
  CHECK_THROWS_WITH(ArgParser({"a", "b", "c"}, spec), "unexpected argument \"c\"");
  // A single-dash word is a mistyped flag, not a file name.
  CHECK_THROWS_WITH(ArgParser({"-json"}, spec), "unknown option -json");
  CHECK_THROWS_WITH(ArgParser({"--trusted-kye", "K1", "a"}, spec), "unknown option --trusted-kye");
  CHECK(ArgParser({"-"}, spec).positional() == std::vector<std::string>{"-"});
}

TEST_CASE("a double dash ends the flags so a file may be named like one", "[args]") {
  ArgSpec spec;
  spec.switches = {"json"};
  spec.max_positional = ArgSpec::kAny;
  const ArgParser a({"--json", "--", "--json", "-x"}, spec);
  CHECK(a.has("json"));
  CHECK(a.positional() == std::vector<std::string>{"--json", "-x"});
  // Commands without positional arguments keep refusing it.
  CHECK_THROWS_WITH(parse({"--"}), "unknown option --");
}

TEST_CASE("a command group reads its flags up to the subcommand and leaves the rest to it",
          "[args]") {
  ArgSpec spec;
  spec.valued = {"socket"};
  spec.switches = {"help"};
  spec.stop_at_positional = true;
  const ArgParser a({"--socket", "s", "allow", "--vid", "0951", "--help"}, spec);
  CHECK(a.get("socket") == "s");
  CHECK_FALSE(a.has("help"));
  CHECK(a.positional() == std::vector<std::string>{"allow", "--vid", "0951", "--help"});
  CHECK(ArgParser({"--help"}, spec).positional().empty());
  CHECK(ArgParser({"-h"}, spec).positional() == std::vector<std::string>{"-h"});
  CHECK_THROWS_WITH(ArgParser({"--sokcet", "s", "status"}, spec), "unknown option --sokcet");
}
