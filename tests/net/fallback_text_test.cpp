// to_json_text(): the NetRules line of the fallback file, written by hand for the long lists,
// reads back as the same JSON that to_json() builds (the boot loader parses it).
#include <catch2/catch.hpp>

#include "core/net/fallback_file.hpp"
#include "core/net/net_rules.hpp"
#include "core/net/ruleset.hpp"

using namespace seatlock;
using namespace seatlock::net;

TEST_CASE("the fallback file's rules line is to_json() and reads back the same rules",
          "[net][fallback]") {
  NetRules r;
  EgressRule a;
  a.to = {{4, "10.0.0.0", 8}, {6, "fd00::", 64}};
  a.ports = {{443, 443}, {8000, 8100}};
  a.proto = "tcp";
  a.essential = true;
  r.allow.push_back(a);
  EgressRule b;
  b.to = {{4, "192.0.2.7", 32}};
  b.proto = "any";
  r.allow.push_back(b);
  r.inbound.push_back({{{4, "10.1.0.0", 16}}, {{22, 22}}, "tcp", "ssh"});
  ResolvedException x;
  x.ticket = "T-\"7\"\n";  // needs escaping
  x.users = {"alice", "b\xc3\xa9la"};
  x.groups = {"support"};
  x.uids = {1001, 1002};
  x.allow = {b};
  x.until = 1'800'000'000'000;
  x.source = "fleet/group/x.json";
  x.allow_domains = {{{"crm.example.com"}, {{443, 443}}, "tcp", "", false}};
  r.exceptions.push_back(x);
  r.exceptions.push_back(x);
  r.exceptions.back().allow_domains.clear();
  r.dns = {"10.0.0.53"};
  r.collector = {{"10.9.0.1", 8443, "tcp"}};

  const std::string text = to_json_text(r);
  CHECK(nlohmann::json::parse(text) == to_json(r));
  NetRules empty;
  CHECK(nlohmann::json::parse(to_json_text(empty)) == to_json(empty));

  // Through the file as the boot loader reads it.
  auto back = rules_from_fallback_file(render_fallback_file(r, compile_ruleset(r, 0), 0));
  REQUIRE(back);
  CHECK(to_json(*back) == to_json(r));
}
