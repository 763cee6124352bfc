// AnswerCache: what the guard puts back into the sets after a ruleset apply emptied them.
#include "core/dns/answer_cache.hpp"

#include <catch2/catch.hpp>

using namespace seatlock;
using namespace seatlock::dns;

namespace {

constexpr UnixMillis kNow = 1'800'000'000'000;

net::NetRules rules_with(std::vector<DomainRule> domains) {
  net::NetRules r;
  r.dns = {"10.0.0.53"};
  r.allow_domains = std::move(domains);
  r.dns_guard_port = net::kDnsGuardPort;
  return r;
}

DomainRule entry(const std::string& name) {
  return {{name}, {{443, 443}}, "tcp", ""};
}

}  // namespace

TEST_CASE("the cache puts live addresses back with the time they have left", "[dns][unit]") {
  AnswerCache cache;
  cache.record("crm.example.com", {{"dom0_4", "10.1.0.1", 90'000}, {"dom0_6", "fd00::1", 90'000}},
               kNow);
  auto out = cache.refill(DomainTable(rules_with({entry("crm.example.com")}), kNow), kNow + 30'000);
  REQUIRE(out.size() == 2);
  CHECK(out[0] == SetElement{"dom0_4", "10.1.0.1", 60'000});
  CHECK(out[1] == SetElement{"dom0_6", "fd00::1", 60'000});
}

TEST_CASE("a reload that renumbers the entries sends addresses to the new sets", "[dns][unit]") {
  AnswerCache cache;
  cache.record("crm.example.com", {{"dom0_4", "10.1.0.1", 90'000}}, kNow);
  // The entry is now the second one, and a wildcard entry admits the name too.
  auto rules =
      rules_with({entry("tickets.example.org"), entry("crm.example.com"), entry("*.example.com")});
  auto out = cache.refill(DomainTable(rules, kNow), kNow);
  REQUIRE(out.size() == 2);
  CHECK(out[0].set == "dom1_4");
  CHECK(out[1].set == "dom2_4");
}

TEST_CASE("expired addresses and names no entry admits any more are forgotten", "[dns][unit]") {
  AnswerCache cache;
  cache.record("crm.example.com", {{"dom0_4", "10.1.0.1", 10'000}}, kNow);
  cache.record("crm.example.com", {{"dom0_4", "10.1.0.2", 90'000}}, kNow);
  cache.record("old.example.com", {{"dom1_4", "10.1.0.3", 90'000}}, kNow);
  auto out = cache.refill(DomainTable(rules_with({entry("crm.example.com")}), kNow), kNow + 20'000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].address == "10.1.0.2");
  CHECK(cache.names() == 1);
  // A later answer with a shorter TTL never shortens what was promised.
  cache.record("crm.example.com", {{"dom0_4", "10.1.0.2", 5'000}}, kNow + 20'000);
  out = cache.refill(DomainTable(rules_with({entry("crm.example.com")}), kNow), kNow + 80'000);
  REQUIRE(out.size() == 1);
  CHECK(out[0].timeout_ms == 10'000);
  // Policy without the name: nothing to put back, and nothing kept.
  CHECK(cache.refill(DomainTable(rules_with({entry("x.example.org")}), kNow), kNow).empty());
  CHECK(cache.names() == 0);
}
