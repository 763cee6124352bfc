// Domain names in allow entries through load_policy alone (black box: this file also builds
// against a tree without domain support, where it fails): where errors are reported and that
// a name needs resolvers (no root).
#include <catch2/catch.hpp>

#include "core/policy/loader.hpp"
#include "core/util/time.hpp"

using namespace seatlock;

namespace {

PolicyLoadResult load(std::vector<PolicyFile> files) {
  PolicyLoadOptions o;
  o.now = *parse_rfc3339("2026-11-28T12:00:00Z");
  return load_policy(files, o);
}

std::vector<std::string> texts(const PolicyLoadResult& r) {
  std::vector<std::string> out;
  for (const auto& d : r.errors) out.push_back(d.text());
  return out;
}

}  // namespace

TEST_CASE("malformed names are reported at file:line:column with their pointer", "[dns][policy]") {
  auto r = load({{"50-site.json",
                  "{\"network\": {\"dns\": [\"10.0.0.53\"],\n"
                  "  \"allow\": [{\"to\": [\"ok.example.com\", \"bad..example.com\"]}],\n"
                  "  \"inbound\": [{\"from\": \"crm.example.com\"}]}}"}});
  CHECK(texts(r) ==
        std::vector<std::string>{
            "50-site.json:2:39: /network/allow/0/to/1: expected a domain name such as "
            "\"crm.example.com\" or \"*.example.com\" (empty label), got \"bad..example.com\"",
            // Inbound sources stay addresses: a name there is an address error.
            "50-site.json:3:24: /network/inbound/0/from: expected an IPv4 or IPv6 address in "
            "CIDR notation, got \"crm.example.com\""});
}

TEST_CASE("a domain entry without network.dns is rejected where the name was written",
          "[dns][policy]") {
  auto r = load(
      {{"50-site.json", "{\"network\": {\"allow\": [{\"to\": \"10.0.0.0/8\"}]}}"},
       {"60-team.json",
        "{\"network\": {\"allow\": [\n  {\"to\": [\"10.1.0.0/16\", \"crm.example.com\"]}]}}"}});
  CHECK(texts(r) == std::vector<std::string>{
                        "60-team.json:2:26: /network/allow/0/to/1: a domain name needs resolvers: "
                        "set \"network\": {\"dns\": [...]} in this or another file (the DNS guard "
                        "forwards allowed names to those resolvers only)"});
  // Resolvers from any file satisfy it.
  auto ok = load({{"50-site.json", "{\"network\": {\"dns\": [\"10.0.0.53\"]}}"},
                  {"60-team.json", "{\"network\": {\"allow\": [{\"to\": \"crm.example.com\"}]}}"}});
  CHECK(texts(ok).empty());
}

TEST_CASE("an exception's domain name needs resolvers too", "[dns][policy]") {
  auto r = load({{"80-net-exception-IT-7.json",
                  "{\"network\": {\"exceptions\": [{\"users\": [\"alice\"],\n"
                  "  \"allow\": [{\"to\": \"portal.example.org\", \"ports\": [443]}],\n"
                  "  \"until\": \"2027-01-01T00:00:00Z\", \"ticket\": \"IT-7\"}]}}"}});
  CHECK(texts(r) == std::vector<std::string>{
                        "80-net-exception-IT-7.json:2:20: /network/exceptions/0/allow/0/to: a "
                        "domain name needs resolvers: set \"network\": {\"dns\": [...]} in this or "
                        "another file (the DNS guard forwards allowed names to those resolvers "
                        "only)"});
}

TEST_CASE("network.dns_guard: the guard's timeouts and cap, checked and merged", "[dns][policy]") {
  // Defaults: today's fixed clamp(TTL, 30 s, 1 d) + 60 s and 64 addresses per answer.
  auto plain = load({{"50-site.json", "{\"network\": {\"dns\": [\"10.0.0.53\"]}}"}});
  REQUIRE(plain.policy);
  CHECK(plain.policy->network.dns_guard.ttl_floor_ms == 30'000);
  CHECK(plain.policy->network.dns_guard.grace_ms == 60'000);
  CHECK(plain.policy->network.dns_guard.max_addresses_per_name == 64);
  // A later file overrides key by key.
  auto set = load({{"50-site.json", "{\"network\": {\"dns_guard\": {\"ttl_floor\": \"10s\"}}}"},
                   {"60-team.json",
                    "{\"network\": {\"dns_guard\": {\"grace\": \"2m\", "
                    "\"max_addresses_per_name\": 16}}}"}});
  REQUIRE(set.policy);
  CHECK(set.policy->network.dns_guard.ttl_floor_ms == 10'000);
  CHECK(set.policy->network.dns_guard.grace_ms == 120'000);
  CHECK(set.policy->network.dns_guard.max_addresses_per_name == 16);

  auto bad = load({{"50-site.json",
                    "{\"network\": {\"dns_guard\": {\n"
                    "  \"ttl_floor\": \"0s\", \"grace\": \"2d\",\n"
                    "  \"max_addresses_per_name\": 0, \"floor\": \"1s\"}}}"}});
  CHECK_FALSE(bad.policy);
  CHECK(texts(bad) ==
        std::vector<std::string>{
            "50-site.json:2:16: /network/dns_guard/ttl_floor: expected a duration such as "
            "\"90s\", \"6h\" or \"1h30m\" (units ms, s, m, h, d), got \"0s\"",
            "50-site.json:2:31: /network/dns_guard/grace: expected at most 1d (the longest "
            "element timeout), got \"2d\"",
            "50-site.json:3:29: /network/dns_guard/max_addresses_per_name: expected an integer "
            "1-1024, got 0",
            "50-site.json:3:32: /network/dns_guard/floor: unknown key; expected one of ttl_floor, "
            "grace, max_addresses_per_name"});
}
