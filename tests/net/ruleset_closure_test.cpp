// The internet closed (seatlockctl net close, or the policy's network.closed): what the compiled
// ruleset keeps (essential allow entries, the management path) and drops (exceptions, the rest
// of the allowlist), when a closure ends, and that the state survives the fallback file.
#include <catch2/catch.hpp>

#include "core/net/domain_rules.hpp"
#include "core/net/fallback_file.hpp"
#include "core/net/net_rules.hpp"
#include "core/net/ruleset.hpp"

using namespace seatlock;
using namespace seatlock::net;

namespace {

const UnixMillis kNow = 1'800'000'000'000;

EgressRule rule(const std::string& to, bool essential = false) {
  auto r = parse_destination(to);
  REQUIRE(r);
  r->essential = essential;
  return *r;
}

std::string set_block(const std::string& sets, const std::string& name) {
  auto start = sets.find("set " + name + " {");
  REQUIRE(start != std::string::npos);
  return sets.substr(start, sets.find("\n  }\n", start) - start);
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

// A site policy: the CRM essential, the web not; a resolver, the collector, one grant.
NetRules site() {
  NetRules r;
  r.allow = {rule("10.99.0.80:8080", true), rule("10.99.0.54:9090")};
  r.dns = {"10.99.0.53"};
  r.collector = {{"10.99.0.2", 8443, "tcp"}};
  r.exceptions = {{"T-1", {"alice"}, {}, {1001}, {rule("198.51.100.0/24")}, kNow + 60'000, "x"}};
  return r;
}

NetClosure closure(std::optional<UnixMillis> until) {
  return {"CHG-7", "alice", kNow - 1000, until, "fleet/groups/floor-2/95-net-closed.json"};
}

}  // namespace

TEST_CASE("closed: only essential allow entries and the management path stay", "[net][unit]") {
  NetRules r = site();
  auto open = compile_ruleset(r, kNow);
  CHECK_FALSE(open.closed);
  CHECK(has(set_block(open.sets, "base4"), "10.99.0.54 . "));
  CHECK(open.active.size() == 1);

  auto check_closed = [&](const NetRules& rules) {
    auto c = compile_ruleset(rules, kNow);
    CHECK(c.closed);
    // The chains look in the essential sets: the essential entry, not the suspended one. The
    // seat-wide sets keep everything, so `net open` changes only which sets are looked in.
    const std::string ess4 = set_block(c.sets, "ess4");
    CHECK(has(ess4, "10.99.0.80 . 6 . 8080"));  // essential
    CHECK(has(ess4, "10.99.0.80 . 17 . 8080"));
    CHECK_FALSE(has(ess4, "10.99.0.54"));  // suspended
    CHECK(has(set_block(c.sets, "base4"), "10.99.0.54 . "));
    for (const std::string& allow : {c.allow_out, c.allow_fwd}) {
      CHECK(has(allow, "ip daddr . meta l4proto . th dport @ess4 goto accepted"));
      CHECK(has(allow, "ip6 daddr @essany6 goto accepted"));
      CHECK_FALSE(has(allow, "@base4"));
      CHECK_FALSE(has(allow, "@any4"));
      CHECK_FALSE(has(allow, "@exc"));
    }
    CHECK(c.suspended_allow == 1);
    CHECK(c.active.empty());  // exceptions suspended
    CHECK(c.exception_elements == 0);
    // The management path: collector and resolvers, in their own sets, whatever the allowlist.
    const std::string mgmt4 = set_block(c.sets, "mgmt4");
    CHECK(has(mgmt4, "flags interval,timeout"));
    CHECK(has(mgmt4, "10.99.0.2 . 6 . 8443"));
    CHECK(has(mgmt4, "10.99.0.53 . 6 . 53"));
    CHECK(has(mgmt4, "10.99.0.53 . 17 . 53"));
    CHECK(c.management_elements == 3);
    return c;
  };
  SECTION("by the local switch") {
    r.closed = true;
    auto c = check_closed(r);
    CHECK_FALSE(c.closure);
  }
  SECTION("by the policy's closure, until opened") {
    r.closure = closure(std::nullopt);
    auto c = check_closed(r);
    REQUIRE(c.closure);
    CHECK(c.closure->ticket == "CHG-7");
    CHECK(c.next_expiry == kNow + 60'000);  // the grant's end is still tracked
  }
  SECTION("by the policy's closure with an end: the seat recompiles at that end") {
    r.closure = closure(kNow + 5'000);
    auto c = check_closed(r);
    CHECK(c.next_expiry == kNow + 5'000);
    auto later = compile_ruleset(r, kNow + 5'000);
    CHECK_FALSE(later.closed);
    CHECK_FALSE(later.closure);
    CHECK(has(set_block(later.sets, "base4"), "10.99.0.54 . "));
    CHECK(later.active.size() == 1);
    CHECK(later.next_expiry == kNow + 60'000);
  }
}

TEST_CASE("the management path is accepted first in every output chain, closed or not",
          "[net][unit]") {
  for (Mode mode : {Mode::Enforce, Mode::Audit})
    for (bool closed : {false, true}) {
      NetRules r = site();
      r.mode = mode;
      r.closure = closed ? std::optional(closure(std::nullopt)) : std::nullopt;
      r.addresses = {{"sl0", {4, "10.99.0.1", 24}}};  // a wrong source must not cut it off
      auto c = compile_ruleset(r, kNow);
      for (const std::string& t : {full_transaction(r, c), fallback_transaction(r, c)}) {
        const auto mgmt = t.find("ip daddr . meta l4proto . th dport @mgmt4 accept");
        REQUIRE(mgmt != std::string::npos);
        CHECK(t.find("ip6 daddr . meta l4proto . th dport @mgmt6 accept") != std::string::npos);
        CHECK(mgmt < t.find("@planned4"));
        CHECK(mgmt < t.find("    jump allow_out\n"));
        const auto allow_at = t.find("  chain allow_out {\n");
        REQUIRE(allow_at != std::string::npos);
        const std::string allow = t.substr(allow_at, t.find("\n  }\n", allow_at) - allow_at);
        CHECK(has(allow, closed ? "@ess4 goto accepted" : "@base4 goto accepted"));
        CHECK(has(set_block(t, "mgmt4"), "10.99.0.2 . 6 . 8443"));
      }
    }
}

TEST_CASE(
    "with the DNS guard the management sets hold the collector, and closed keeps only "
    "essential domain entries",
    "[net][unit]") {
  NetRules r = site();
  r.dns_guard_port = kDnsGuardPort;
  r.allow_domains = {{{"crm.example.com"}, {{443, 443}}, "tcp", "", true},
                     {{"news.example.com"}, {}, "any", "", false}};
  auto c = compile_ruleset(r, kNow);
  // Resolvers are reached by the guard's marked sockets only (domain_rules.hpp), not mgmt.
  CHECK_FALSE(has(set_block(c.sets, "mgmt4"), " . 53"));
  CHECK(has(set_block(c.sets, "mgmt4"), "10.99.0.2 . 6 . 8443"));
  const std::string open_chain = full_transaction(r, c);
  CHECK(has(open_chain, "@dom1_4"));

  r.closure = closure(std::nullopt);
  auto closed = compile_ruleset(r, kNow);
  CHECK(closed.suspended_allow == 2);  // the web CIDR entry and news.example.com
  const std::string t = full_transaction(r, closed);
  CHECK(has(t, "ip daddr @dom0_4"));        // essential name entry
  CHECK_FALSE(has(t, "ip daddr @dom1_4"));  // suspended
  CHECK_FALSE(has(t, "ct state established ct mark and"));
  // The guard's own path to the resolvers stays.
  CHECK(has(t, "th dport 53 ip daddr @dnsres4 accept"));
}

TEST_CASE("a collector named by host leaves a hook for the DNS guard", "[net][unit]") {
  Policy p;
  p.report.collector = "https://collector.example.com:8443";
  auto named = make_net_rules(p, {}, {"192.0.2.10"}, std::nullopt, false);
  CHECK(named.collector_host == "collector.example.com");
  CHECK(named.collector_port == 8443);
  REQUIRE(named.collector.size() == 1);  // what the OS resolved at load time is in mgmt4 too
  CHECK(has(set_block(compile_ruleset(named, kNow).sets, "mgmt4"), "192.0.2.10 . 6 . 8443"));
  p.report.collector = "https://[fd00::2]:8443";
  auto literal = make_net_rules(p, {}, {"fd00::2"}, std::nullopt, false);
  CHECK(literal.collector_host.empty());
  CHECK(has(set_block(compile_ruleset(literal, kNow).sets, "mgmt6"), "fd00::2 . 6 . 8443"));
}

TEST_CASE("a closure, essential flags and the collector host survive the fallback file",
          "[net][unit]") {
  NetRules r = site();
  r.closure = closure(kNow + 5'000);
  r.collector_host = "collector.example.com";
  r.collector_port = 8443;
  r.allow_domains = {{{"crm.example.com"}, {}, "any", "", true}};
  auto c = compile_ruleset(r, kNow);
  auto back = rules_from_fallback_file(render_fallback_file(r, c, kNow));
  REQUIRE(back);
  CHECK(to_json(*back) == to_json(r));
  REQUIRE(back->closure);
  CHECK(back->closure->until == kNow + 5'000);
  CHECK(back->allow[0].essential);
  CHECK(back->allow_domains[0].essential);
  // Loaded at boot after the end (load-fallback recompiles with the current time): open.
  CHECK_FALSE(compile_ruleset(*back, kNow + 5'000).closed);
  CHECK(compile_ruleset(*back, kNow + 4'999).closed);
}
