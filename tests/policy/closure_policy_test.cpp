// network.closed (the internet closed by IT) and network.allow[].essential through load_policy:
// the model, precise errors, the merge rule (the closure in force the longest wins, never
// merged key by key) and an ended closure (left out with a warning, never an error).
#include <catch2/catch.hpp>

#include "core/policy/loader.hpp"
#include "core/util/time.hpp"

using namespace seatlock;

namespace {

const UnixMillis kNow = *parse_rfc3339("2026-12-02T01:00:00Z");

PolicyLoadResult load(std::vector<PolicyFile> files, bool expired_is_error = false) {
  PolicyLoadOptions o;
  o.now = kNow;
  o.expired_is_error = expired_is_error;
  return load_policy(files, o);
}

std::vector<std::string> texts(const std::vector<PolicyDiagnostic>& list) {
  std::vector<std::string> out;
  for (const auto& d : list) out.push_back(d.text());
  return out;
}

std::string joined(const std::vector<PolicyDiagnostic>& list) {
  std::string out;
  for (const auto& d : list) out += d.text() + "\n";
  return out;
}

std::string closed(const std::string& ticket, const std::string& until = "") {
  return R"({"network": {"closed": {"ticket": ")" + ticket + "\"" +
         (until.empty() ? "" : R"(, "until": ")" + until + "\"") + "}}}";
}

}  // namespace

TEST_CASE("network.closed and essential allow entries reach the model", "[policy][closure]") {
  auto r = load({{"fleet/groups/floor-2/95-net-closed.json",
                  R"({"network": {"closed": {"ticket": "CHG-7", "by": "alice",
                      "since": "2026-12-02T00:30:00Z", "until": "2026-12-02T05:00:00+01:00"},
                      "allow": [{"to": "10.1.0.0/24", "ports": [443], "essential": true},
                                {"to": ["10.2.0.0/24", "crm.example.com"], "essential": true},
                                {"to": "10.3.0.0/24"}],
                      "dns": ["10.0.0.53"]}})"}});
  INFO(joined(r.errors));
  REQUIRE(r.policy);
  const auto& n = r.policy->network;
  REQUIRE(n.closed);
  CHECK(n.closed->ticket == "CHG-7");
  CHECK(n.closed->by == "alice");
  CHECK(n.closed->since == parse_rfc3339("2026-12-02T00:30:00Z"));
  CHECK(n.closed->until == parse_rfc3339("2026-12-02T04:00:00Z"));
  CHECK(n.closed->source == "fleet/groups/floor-2/95-net-closed.json");
  REQUIRE(n.allow.size() == 3);
  CHECK(n.allow[0].essential);
  CHECK(n.allow[1].essential);
  CHECK_FALSE(n.allow[2].essential);
  REQUIRE(n.allow_domains.size() == 1);
  CHECK(n.allow_domains[0].essential);

  auto open = load({{"00-default.json", R"({"network": {"allow": [{"to": "10.3.0.0/24"}]}})"}});
  REQUIRE(open.policy);
  CHECK_FALSE(open.policy->network.closed);
}

TEST_CASE("a malformed closure or essential flag is reported where it was written",
          "[policy][closure]") {
  auto r = load({{"95-net-closed.json",
                  "{\"network\": {\"closed\": {\"by\": \"\",\n"
                  "  \"since\": \"2026-12-02T02:00:00Z\", \"until\": \"2026-12-02T01:30:00Z\",\n"
                  "  \"reason\": \"storm\"},\n"
                  "  \"allow\": [{\"to\": \"10.1.0.0/24\", \"essential\": \"yes\"}],\n"
                  "  \"exceptions\": [{\"users\": [\"bob\"], \"until\": \"2027-01-01T00:00:00Z\",\n"
                  "    \"ticket\": \"T-1\", \"allow\": [{\"to\": \"10.9.0.0/24\", \"essential\": "
                  "true}]}]}}"}});
  CHECK_FALSE(r.policy);
  CHECK(texts(r.errors) ==
        std::vector<std::string>{
            "95-net-closed.json:1:24: /network/closed: missing required key \"ticket\"",
            "95-net-closed.json:1:31: /network/closed/by: expected who closed it (a name), got "
            "an empty string",
            "95-net-closed.json:2:45: /network/closed/until: expected a time after \"since\" "
            "(2026-12-02T02:00:00Z), got 2026-12-02T01:30:00Z",
            "95-net-closed.json:3:3: /network/closed/reason: unknown key; expected one of "
            "ticket, by, since, until",
            "95-net-closed.json:4:48: /network/allow/0/essential: expected true or false, got "
            "\"yes\"",
            "95-net-closed.json:6:54: /network/exceptions/0/allow/0/essential: unknown key; "
            "expected one of to, ports, proto, comment"});

  auto bad_time = load(
      {{"95-net-closed.json", R"({"network": {"closed": {"ticket": "T", "until": "tomorrow"}}})"}});
  CHECK(texts(bad_time.errors) ==
        std::vector<std::string>{"95-net-closed.json:1:49: /network/closed/until: expected an RFC "
                                 "3339 time with offset, got \"tomorrow\""});
}

TEST_CASE("of several closures the one in force the longest wins, as one object",
          "[policy][closure]") {
  auto winner = [](std::vector<PolicyFile> files) {
    auto r = load(std::move(files));
    INFO(joined(r.errors));
    REQUIRE(r.policy);
    REQUIRE(r.policy->network.closed);
    return *r.policy->network.closed;
  };
  // The whole fleet closed until opened, a group with an end: the group's end does not reopen.
  auto c = winner({{"fleet/all/95-net-closed.json", closed("ALL")},
                   {"fleet/groups/g/95-net-closed.json", closed("GRP", "2026-12-02T03:00:00Z")}});
  CHECK(c.ticket == "ALL");
  CHECK_FALSE(c.until);
  CHECK(c.source == "fleet/all/95-net-closed.json");
  // Later file, no end: it wins, and does not inherit the earlier file's `until`.
  c = winner({{"fleet/all/95-net-closed.json", closed("ALL", "2026-12-02T03:00:00Z")},
              {"fleet/seats/s/95-net-closed.json", closed("SEAT")}});
  CHECK(c.ticket == "SEAT");
  CHECK_FALSE(c.until);
  // Two ends: the later end wins whatever the file order.
  c = winner({{"a.json", closed("LONG", "2026-12-02T09:00:00Z")},
              {"b.json", closed("SHORT", "2026-12-02T02:00:00Z")}});
  CHECK(c.ticket == "LONG");
  CHECK(c.until == parse_rfc3339("2026-12-02T09:00:00Z"));
}

TEST_CASE("a closure whose until has passed is left out with a warning, never an error",
          "[policy][closure]") {
  for (bool strict : {false, true}) {
    auto r = load({{"95-net-closed.json", closed("OLD", "2026-12-02T00:59:00Z")}}, strict);
    INFO(joined(r.errors));
    REQUIRE(r.policy);
    CHECK_FALSE(r.policy->network.closed);
    CHECK(texts(r.warnings) ==
          std::vector<std::string>{
              "95-net-closed.json:1:51: /network/closed/until: closure ended at "
              "2026-12-02T00:59:00Z; not in force (the seat is open unless closed elsewhere)"});
  }
  // An ended closure in a later file leaves an earlier one in force.
  auto r = load({{"a.json", closed("STILL")}, {"b.json", closed("OLD", "2026-12-02T00:59:00Z")}});
  REQUIRE(r.policy);
  REQUIRE(r.policy->network.closed);
  CHECK(r.policy->network.closed->ticket == "STILL");
}
