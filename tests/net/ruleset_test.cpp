// Unit tests of the egress compiler (no root): interval merging, modes, exceptions, close.
#include "core/net/ruleset.hpp"

#include <catch2/catch.hpp>
#include <random>
#include <regex>

#include "core/net/address_space.hpp"
#include "core/net/fallback_file.hpp"
#include "core/net/net_rules.hpp"

using namespace seatlock;
using namespace seatlock::net;

namespace {

EgressRule rule(const std::string& to, std::vector<PortRange> ports = {},
                std::string proto = "any") {
  auto r = parse_destination(to);
  REQUIRE(r);
  r->ports = std::move(ports);
  r->proto = std::move(proto);
  return *r;
}

const UnixMillis kNow = 1'800'000'000'000;

std::string set_block(const std::string& sets, const std::string& name) {
  auto start = sets.find("set " + name + " {");
  REQUIRE(start != std::string::npos);
  return sets.substr(start, sets.find("\n  }\n", start) - start);
}

}  // namespace

TEST_CASE("disjoint_boxes covers the union without overlaps and keeps the max value",
          "[net][unit]") {
  std::mt19937 rng(42);
  for (int round = 0; round < 200; ++round) {
    std::vector<Box> in;
    int n = 1 + int(rng() % 8);
    for (int i = 0; i < n; ++i) {
      U128 a = rng() % 64, b = rng() % 64;
      std::uint16_t p = std::uint16_t(rng() % 16), q = std::uint16_t(rng() % 16);
      in.push_back({std::min(a, b), std::max(a, b), std::min(p, q), std::max(p, q),
                    std::int64_t(rng() % 4)});
    }
    auto out = disjoint_boxes(in);
    for (U128 addr = 0; addr < 64; ++addr)
      for (std::uint16_t port = 0; port < 16; ++port) {
        std::int64_t want = -1;
        for (const auto& b : in)
          if (b.addr_first <= addr && addr <= b.addr_last && b.port_first <= port &&
              port <= b.port_last)
            want = std::max(want, b.value);
        int hits = 0;
        std::int64_t got = -1;
        for (const auto& b : out)
          if (b.addr_first <= addr && addr <= b.addr_last && b.port_first <= port &&
              port <= b.port_last) {
            ++hits;
            got = b.value;
          }
        REQUIRE(hits == (want >= 0 ? 1 : 0));
        REQUIRE(got == want);
      }
  }
}

TEST_CASE("overlapping CIDRs and ports merge into one element per disjoint piece", "[net][unit]") {
  NetRules r;
  r.allow = {rule("10.0.0.0/8", {{443, 443}}, "tcp"), rule("10.1.0.0/16", {{443, 443}}, "tcp"),
             rule("10.0.0.0/8", {{80, 443}}, "tcp")};
  auto c = compile_ruleset(r, kNow);
  CHECK(c.base_elements == 1);
  CHECK(set_block(c.sets, "base4").find("10.0.0.0-10.255.255.255 . 6 . 80-443") !=
        std::string::npos);
}

TEST_CASE("enforce drops by default, audit never drops", "[net][unit]") {
  NetRules r;
  r.allow = {rule("10.0.0.0/8")};
  r.addresses = {{"eth0", {4, "10.1.2.117", 24}}};
  std::string enforce = output_chain(r, true, 0);
  CHECK(enforce.find("policy drop;") != std::string::npos);
  CHECK(enforce.find("counter name denied drop") != std::string::npos);
  CHECK(enforce.find("log group 4711 prefix \"sl-deny \"") != std::string::npos);
  CHECK(enforce.find("oifname . ip saddr != @planned4") != std::string::npos);
  r.mode = Mode::Audit;
  std::string audit = output_chain(r, true, 0);
  CHECK(audit.find("policy accept;") != std::string::npos);
  CHECK(audit.find("drop") == std::string::npos);
  CHECK(audit.find("sl-audit") != std::string::npos);
  // The fallback chain never logs (the owned table does) and hooks after the owned one.
  std::string fallback = output_chain(r, false, 10);
  CHECK(fallback.find(" log ") == std::string::npos);
  CHECK(fallback.find("priority filter + 10") != std::string::npos);
}

TEST_CASE("DNS, NTP and the collector are the only extra destinations", "[net][unit]") {
  NetRules r;
  r.dns = {"10.99.0.53", "fd00::53"};
  r.ntp = {"10.99.0.123"};
  r.collector = {{"192.0.2.10", 8443, "tcp"}};
  auto c = compile_ruleset(r, kNow);
  std::string base4 = set_block(c.sets, "base4");
  CHECK(base4.find("10.99.0.53 . 17 . 53") != std::string::npos);
  CHECK(base4.find("10.99.0.53 . 6 . 53") != std::string::npos);
  CHECK(base4.find("10.99.0.123 . 17 . 123") != std::string::npos);
  CHECK(base4.find("192.0.2.10 . 6 . 8443") != std::string::npos);
  CHECK(base4.find("853") == std::string::npos);  // no DoT unless an allow entry says so
  CHECK(set_block(c.sets, "base6").find("fd00::53 . 17 . 53") != std::string::npos);
  CHECK(c.base_elements == 6);
}

TEST_CASE("exceptions become uid concatenations with timeouts, expired ones are left out",
          "[net][unit]") {
  NetRules r;
  r.exceptions = {{"T-1",
                   {"alice"},
                   {},
                   {1001, 1002},
                   {rule("0.0.0.0/0", {{443, 443}}, "tcp")},
                   kNow + 7'200'000,
                   "a"},
                  {"T-2", {"bob"}, {}, {1003}, {rule("192.0.2.0/24")}, kNow - 1, "b"},
                  {"T-3", {"carol"}, {}, {1001}, {rule("198.51.100.7")}, kNow + 60'000, "c"}};
  auto c = compile_ruleset(r, kNow);
  std::string exc4 = set_block(c.sets, "exc4");
  CHECK(exc4.find("1001 . 0.0.0.0-255.255.255.255 . 6 . 443 timeout 2h") != std::string::npos);
  CHECK(exc4.find("1002 . 0.0.0.0-255.255.255.255 . 6 . 443 timeout 2h") != std::string::npos);
  std::string excany4 = set_block(c.sets, "excany4");
  CHECK(excany4.find("1001 . 198.51.100.7 timeout 1m") != std::string::npos);
  CHECK(c.sets.find("1003") == std::string::npos);
  REQUIRE(c.active.size() == 2);
  REQUIRE(c.next_expiry);
  CHECK(*c.next_expiry == kNow + 60'000);

  SECTION("closed: exceptions suspended, expiry still tracked") {
    r.closed = true;
    auto closed = compile_ruleset(r, kNow);
    CHECK(closed.exception_elements == 0);
    CHECK(closed.active.empty());
    // The elements stay, their kernel timeouts running, so `net open` adds none; no rule of
    // allow_out looks at them while closed.
    CHECK(set_block(closed.sets, "exc4")
              .find("1001 . 0.0.0.0-255.255.255.255 . 6 . 443 timeout 2h") != std::string::npos);
    CHECK(c.allow_out.find("@exc4 accept") != std::string::npos);
    CHECK(closed.allow_out.find("@exc") == std::string::npos);
    REQUIRE(closed.next_expiry);
    CHECK(*closed.next_expiry == kNow + 60'000);
  }
}

TEST_CASE("long exception timeouts are written as composite durations nft accepts", "[net][unit]") {
  NetRules r;
  r.exceptions = {
      {"Y", {"u"}, {}, {1001}, {rule("10.0.0.0/8")}, kNow + 400LL * 86'400'000 + 3'723'004, ""}};
  auto c = compile_ruleset(r, kNow);
  CHECK(set_block(c.sets, "excany4").find("timeout 400d1h2m3s4ms") != std::string::npos);
}

TEST_CASE("the same uid in two overlapping exceptions keeps the later expiry", "[net][unit]") {
  NetRules r;
  r.exceptions = {{"A", {"u"}, {}, {1001}, {rule("10.0.0.0/8")}, kNow + 1000, ""},
                  {"B", {"u"}, {}, {1001}, {rule("10.1.0.0/16")}, kNow + 5000, ""}};
  auto c = compile_ruleset(r, kNow);
  std::string excany4 = set_block(c.sets, "excany4");
  CHECK(excany4.find("1001 . 10.1.0.0-10.1.255.255 timeout 5s") != std::string::npos);
  CHECK(excany4.find("1001 . 10.0.0.0-10.0.255.255 timeout 1s") != std::string::npos);
  CHECK(c.exception_elements == 3);
}

TEST_CASE("transactions replace each table atomically, the owned one with flags owner",
          "[net][unit]") {
  NetRules r;
  auto c = compile_ruleset(r, kNow);
  std::string t = full_transaction(r, c);
  CHECK(t.rfind("add table inet seatlock { flags owner; }\ndelete table inet seatlock\ntable inet "
                "seatlock {\n  flags owner;",
                0) == 0);
  CHECK(t.find("add table inet seatlock_fallback\ndelete table inet seatlock_fallback\n") !=
        std::string::npos);
  CHECK(fallback_transaction(r, c).find("flags owner") == std::string::npos);
}

TEST_CASE("NetRules survive the fallback file", "[net][unit]") {
  NetRules r;
  r.mode = Mode::Audit;
  r.closed = true;
  r.allow = {rule("10.0.0.0/8", {{80, 80}, {8000, 8100}}, "tcp")};
  r.dns = {"10.0.0.53"};
  r.exceptions = {
      {"T", {"alice"}, {"qa"}, {1001, 1005}, {rule("0.0.0.0/0")}, kNow + 10, "policy.d/80.json"}};
  r.addresses = {{"eth0", {4, "10.1.2.117", 24}}};
  auto c = compile_ruleset(r, kNow);
  std::string file = render_fallback_file(r, c, kNow);
  auto back = rules_from_fallback_file(file);
  REQUIRE(back);
  CHECK(to_json(*back) == to_json(r));
  CHECK(back->addresses[0].address.text() == "10.1.2.117/24");
  CHECK_FALSE(rules_from_fallback_file("table inet x {}\n"));
}

TEST_CASE("destinations and collector URLs parse", "[net][unit]") {
  auto d = parse_destination("203.0.113.0/24:443");
  REQUIRE(d);
  CHECK(d->to[0].text() == "203.0.113.0/24");
  CHECK(d->ports == std::vector<PortRange>{{443, 443}});
  auto v6 = parse_destination("[2001:db8::/32]:8000-8080");
  REQUIRE(v6);
  CHECK(v6->to[0].family == 6);
  CHECK(v6->ports == std::vector<PortRange>{{8000, 8080}});
  CHECK(parse_destination("10.0.0.1/8")->to[0].address == "10.0.0.0");
  CHECK_FALSE(parse_destination("10.0.0.0/33"));
  CHECK_FALSE(parse_destination("10.0.0.0/8:99999"));
  CHECK_FALSE(parse_destination("example.com"));
  auto c = parse_collector_url("https://10.1.0.5:8443/v1");
  REQUIRE(c);
  CHECK(c->host == "10.1.0.5");
  CHECK(c->port == 8443);
  CHECK(parse_collector_url("https://[fd00::5]")->port == 443);
  CHECK_FALSE(parse_collector_url(""));
}

TEST_CASE("each chain accepts a connection of the current generation first and stamps new ones",
          "[net][unit]") {
  NetRules r;
  r.allow = {rule("10.0.0.0/8")};
  const EgressRule ssh = rule("192.168.0.0/16", {{22, 22}}, "tcp");
  r.inbound = {{ssh.to, ssh.ports, ssh.proto, ""}};
  auto c = compile_ruleset(r, kNow);
  const std::string t = full_transaction(r, c);
  // Early in each base chain (after loopback) a jump to chain `decided`, whose one rule
  // compares the ct mark with the generation: no set lookup on every packet. The owned table's
  // counts what it accepts (`net status`); the fallback table's is the same without a counter.
  const std::string jump = "    jump decided\n";
  const std::string counted =
      "  chain decided {\n    ct mark and 0xdfffffff == " + nft_hex32(c.generation << 16) +
      " counter name connection_decided accept\n  }\n";
  const std::string uncounted =
      "  chain decided {\n    ct mark and 0xdfffffff == " + nft_hex32(c.generation << 16) +
      " accept\n  }\n";
  const auto fallback_table = t.find("table inet seatlock_fallback {");
  REQUIRE(fallback_table != std::string::npos);
  CHECK(t.find(counted) < fallback_table);
  CHECK(t.find(uncounted) > fallback_table);
  for (const bool owned : {true, false}) {
    const int priority = owned ? 0 : 10;
    for (const std::string& chain :
         {output_chain(r, owned, priority), input_chain(r, owned, priority),
          forward_chain(r, owned, priority)}) {
      INFO(chain);
      const auto at = chain.find(jump);
      REQUIRE(at != std::string::npos);
      CHECK(chain.find("connection_decided") == std::string::npos);
      // Nothing but loopback (by its index, never re-created) is accepted before it.
      std::string before = chain.substr(0, at);
      for (const std::string lo : {"meta oif \"lo\" accept", "meta iif \"lo\" accept"})
        if (auto p = before.find(lo); p != std::string::npos) before.erase(p, lo.size());
      CHECK(before.find("accept") == std::string::npos);
      CHECK(before.find("ifname") == std::string::npos);
      CHECK(chain.find("goto accepted") > at);
    }
  }
  // The counter object exists in the owned table only, so `net status` lists no idle twin.
  const auto fallback_at = t.find("table inet seatlock_fallback {");
  REQUIRE(fallback_at != std::string::npos);
  CHECK(t.find("counter connection_decided { }") < fallback_at);
  CHECK(t.find("counter connection_decided { }", fallback_at) == std::string::npos);
  CHECK(c.allow_out.find("ip daddr @any4 goto accepted") != std::string::npos);
  CHECK(c.allow_fwd.find("ip daddr @any4 goto accepted") != std::string::npos);
  CHECK(input_chain(r, true, 0).find("@in4 goto accepted") != std::string::npos);
  // The stamp keeps the domain bit and leaves flows with someone else's mark bits alone.
  CHECK(t.find("ct mark and 0xd000ffff == 0 ct mark set ct mark and 0x20000000 map @stamp\n"
               "    accept\n") != std::string::npos);
  CHECK(t.find("elements = { 0x00000000 : 0x") != std::string::npos);
  // A denied flow loses its generation, so a wrapped counter cannot let it pass again.
  CHECK(t.find("ct mark set ct mark and 0xf000ffff counter name denied drop") != std::string::npos);
  // Audit mode still never drops, generation rules included.
  r.mode = Mode::Audit;
  const std::string audit = full_transaction(r, compile_ruleset(r, kNow));
  CHECK(audit.find("drop") == std::string::npos);
  CHECK(audit.find(jump) != std::string::npos);
  CHECK(audit.find("counter name connection_decided accept\n") != std::string::npos);
  CHECK(t.find("@gen") == std::string::npos);
}

TEST_CASE("a flow a user's exception accepted is never stamped, so it cannot outlive the expiry",
          "[net][unit]") {
  // The exception element's kernel timeout counts from the compile, so it can outlive `until`
  // by as long as the transaction took; the expiry meanwhile puts a new generation in force. A
  // stamp in that window made the flow pass for good (found by the ASan CI run, session 13).
  NetRules r;
  r.allow = {rule("10.0.0.0/8")};
  r.exceptions = {
      {"T-1", {"alice"}, {}, {1001}, {rule("0.0.0.0/0", {{443, 443}}, "tcp")}, kNow + 60'000, "a"}};
  auto c = compile_ruleset(r, kNow);
  const std::string t = full_transaction(r, c);
  for (const char* table : {"table inet seatlock {", "table inet seatlock_fallback {"}) {
    const auto table_at = t.find(table);
    REQUIRE(table_at != std::string::npos);
    const std::string out = t.substr(table_at);  // its allow_out chain comes first
    INFO(out);
    for (const char* set : {"@exc4", "@exc6", "@excany4", "@excany6"}) {
      const auto at = out.find(std::string(set) + " ");
      REQUIRE(at != std::string::npos);
      const std::string rule_text = out.substr(at, out.find('\n', at) - at);
      CHECK(rule_text == std::string(set) + " accept");
    }
    // The allowlist, which does not expire, still stamps.
    CHECK(out.find("@base4 goto accepted") != std::string::npos);
  }
}
