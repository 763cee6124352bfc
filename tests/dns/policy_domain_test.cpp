// Domain names in allow entries: the name rules, where errors are reported, and what the
// loaded policy holds (no root).
#include <catch2/catch.hpp>

#include "core/policy/domain_name.hpp"
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

TEST_CASE("domain names and wildcards are canonical, malformed ones say why", "[dns][policy]") {
  CHECK(parse_domain_pattern("CRM.Example.com.").name == "crm.example.com");
  CHECK(parse_domain_pattern("*.example.com").name == "*.example.com");
  CHECK(parse_domain_pattern("xn--bcher-kva.example").name == "xn--bcher-kva.example");
  const std::string label63(63, 'a');
  CHECK(parse_domain_pattern(label63 + ".com").name);
  CHECK(parse_domain_pattern(label63 + "a.com").error.find("longer than 63") != std::string::npos);
  std::string long_name;
  for (int i = 0; i < 4; ++i) long_name += label63 + ".";
  long_name += "com";  // 4*64 + 3 = 259
  CHECK(parse_domain_pattern(long_name).error.find("longer than 253") != std::string::npos);
  CHECK(parse_domain_pattern("a..com").error.find("empty label") != std::string::npos);
  CHECK(parse_domain_pattern("a.*.com").error.find("leftmost") != std::string::npos);
  CHECK(parse_domain_pattern("*x.example.com").error.find("leftmost") != std::string::npos);
  CHECK(parse_domain_pattern("*.com").error.find("two labels after") != std::string::npos);
  CHECK(parse_domain_pattern("crm").error.find("at least two labels") != std::string::npos);
  CHECK(parse_domain_pattern("-crm.example.com").error.find("begins or ends") != std::string::npos);
  CHECK(parse_domain_pattern("crm_1.example.com").error ==
        "expected a domain name such as \"crm.example.com\" or \"*.example.com\" (label "
        "\"crm_1\" has \"_\"; only letters, digits and '-'), got \"crm_1.example.com\"");
  CHECK(parse_domain_pattern("10.0.0.0a").error.find("last label must begin with a letter") !=
        std::string::npos);
  // Addresses and CIDRs are never read as names, so they keep the address messages.
  CHECK_FALSE(looks_like_domain("10.0.0.300"));
  CHECK_FALSE(looks_like_domain("fd00::zz"));
  CHECK_FALSE(looks_like_domain("10.0.0.0/33"));
  CHECK(looks_like_domain("crm.example.com"));
}

TEST_CASE("an allow entry may mix names and CIDRs, the names keep the entry's ports",
          "[dns][policy]") {
  auto r = load({{"50-site.json",
                  R"({"network": {"dns": ["10.0.0.53"],
  "allow": [{"to": ["CRM.example.com", "10.9.0.0/16", "*.Tickets.example"], "ports": [443],
             "proto": "tcp"}],
  "exceptions": [{"users": ["alice"], "allow": [{"to": "portal.example.org"}],
                  "until": "2027-01-01T00:00:00Z", "ticket": "IT-1"}]}})"}});
  REQUIRE(texts(r).empty());
  const auto& n = r.policy->network;
  REQUIRE(n.allow.size() == 1);
  CHECK(n.allow[0].to.size() == 1);
  REQUIRE(n.allow_domains.size() == 1);
  CHECK(n.allow_domains[0].names ==
        std::vector<std::string>{"crm.example.com", "*.tickets.example"});
  CHECK(n.allow_domains[0].ports == std::vector<PortRange>{{443, 443}});
  CHECK(n.allow_domains[0].proto == "tcp");
  REQUIRE(n.exceptions.size() == 1);
  CHECK(n.exceptions[0].allow.empty());  // names only: no CIDR rule
  REQUIRE(n.exceptions[0].allow_domains.size() == 1);
  CHECK(n.exceptions[0].allow_domains[0].names == std::vector<std::string>{"portal.example.org"});
}
