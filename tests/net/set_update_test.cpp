// set_update_transaction(): which policy changes become element updates in place, and what
// they write; compile_ruleset() with a previous ruleset writes exactly what a fresh compile does.
#include "core/net/set_update.hpp"

#include <catch2/catch.hpp>
#include <random>

#include "core/net/generation.hpp"

using namespace seatlock;
using namespace seatlock::net;

namespace {

const UnixMillis kNow = 1'800'000'000'000;

EgressRule tcp_to(const std::string& addr, int prefix, std::uint16_t port) {
  EgressRule r;
  r.to.push_back({4, addr, prefix});
  r.ports.push_back({port, port});
  r.proto = "tcp";
  return r;
}

NetRules lab_rules() {
  NetRules r;
  r.allow = {tcp_to("10.0.0.0", 8, 443), tcp_to("192.0.2.0", 24, 8080)};
  r.dns = {"10.0.0.53"};
  ResolvedException x;
  x.ticket = "T-1";
  x.uids = {1001};
  x.allow = {tcp_to("198.51.100.7", 32, 443)};
  x.until = kNow + 60'000;
  r.exceptions.push_back(x);
  return r;
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// `rules` compiled, then closed and opened again in place, each compile from the one in force
// (as seatlockd does).
struct CloseAndOpen {
  CompiledRuleset open, closed, reopened;
  std::optional<std::string> close, reopen;  // the in-place transactions
};
CloseAndOpen close_and_open(const NetRules& rules) {
  CloseAndOpen c;
  c.open = compile_ruleset(rules, kNow);
  NetRules closed = rules;
  closed.closed = true;
  c.closed = compile_ruleset(closed, kNow, rules, c.open);
  c.close = set_update_transaction(c.open, c.closed, kNow);
  c.reopened = compile_ruleset(rules, kNow, closed, c.closed);
  c.reopen = set_update_transaction(c.closed, c.reopened, kNow);
  return c;
}

}  // namespace

TEST_CASE("a new exception is two element adds, one per table, and nothing else",
          "[net][set_update]") {
  NetRules before = lab_rules();
  CompiledRuleset old_c = compile_ruleset(before, kNow);
  NetRules after = before;
  ResolvedException x = after.exceptions.front();
  x.ticket = "T-2";
  x.uids = {1002};
  x.until = kNow + 3'600'000;
  after.exceptions.push_back(x);
  CompiledRuleset new_c = compile_ruleset(after, kNow, before, old_c);
  auto t = set_update_transaction(old_c, new_c, kNow);
  REQUIRE(t);
  // Only adds: the generation stays, so live flows keep their fast path.
  CHECK(new_c.generation == old_c.generation);
  CHECK(*t ==
        "add element inet seatlock exc4 { 1002 . 198.51.100.7 . 6 . 443 timeout 1h }\n"
        "add element inet seatlock_fallback exc4 { 1002 . 198.51.100.7 . 6 . 443 timeout 1h }\n");
  // Reusing the previous pieces writes the same tables as a fresh compile.
  CHECK(new_c.sets == compile_ruleset(after, kNow).sets);
  // Nothing changed: nothing to run.
  CompiledRuleset again = compile_ruleset(after, kNow + 1000, after, new_c);
  CHECK(set_update_transaction(new_c, again, kNow + 1000) == std::string());
}

TEST_CASE("a revoked exception is deleted and one past its until is left to the kernel's timeout",
          "[net][set_update]") {
  NetRules before = lab_rules();
  CompiledRuleset old_c = compile_ruleset(before, kNow);
  NetRules after = before;
  after.exceptions.clear();
  CompiledRuleset new_c = compile_ruleset(after, kNow, before, old_c);
  auto revoked = set_update_transaction(old_c, new_c, kNow);
  REQUIRE(revoked);
  // Something was taken away: a new generation, so every live flow is checked again.
  CHECK(new_c.generation == next_generation(old_c.generation));
  CHECK(*revoked ==
        "delete element inet seatlock exc4 { 1001 . 198.51.100.7-198.51.100.7 . 6 . 443-443 }\n"
        "delete element inet seatlock_fallback exc4 { 1001 . 198.51.100.7-198.51.100.7 . 6 . "
        "443-443 }\n" +
            generation_update(new_c));
  // At its expiry the recompile drops it too, but the kernel removed it already, and its flows
  // were never stamped: nothing to write, and live allowlist flows keep their fast path.
  const UnixMillis later = kNow + 60'000;
  CompiledRuleset expired = compile_ruleset(before, later, before, old_c);
  CHECK(expired.exception_elements == 0);
  CHECK(set_update_transaction(old_c, expired, later) == std::string());
  CHECK(expired.generation == old_c.generation);
}

// Regression (issue 18): the lease servers were written into the set definitions, so the lease
// a seat's DHCP client takes just after seatlockd's start replaced both tables (~250 ms of a TCG
// seat's boot, counters reset).
TEST_CASE("a new DHCP lease server is an element update of set dhcp4 in both tables",
          "[net][set_update]") {
  NetRules before = lab_rules();
  CompiledRuleset old_c = compile_ruleset(before, kNow);
  NetRules leased = before;
  leased.dhcp_servers = {"10.0.0.1"};
  CompiledRuleset leased_c = compile_ruleset(leased, kNow, before, old_c);
  auto t = set_update_transaction(old_c, leased_c, kNow);
  REQUIRE(t);
  CHECK(*t ==
        "add element inet seatlock dhcp4 { 10.0.0.1 }\n"
        "add element inet seatlock_fallback dhcp4 { 10.0.0.1 }\n");
  CHECK(leased_c.generation == old_c.generation);
  CHECK(leased_c.sets == compile_ruleset(leased, kNow).sets);

  // Another server: the old one goes (a new generation re-checks flows to it), the broadcast
  // address stays.
  NetRules moved = leased;
  moved.dhcp_servers = {"10.0.0.2"};
  CompiledRuleset moved_c = compile_ruleset(moved, kNow, leased, leased_c);
  auto m = set_update_transaction(leased_c, moved_c, kNow);
  REQUIRE(m);
  CHECK(has(*m, "delete element inet seatlock dhcp4 { 10.0.0.1 }\n"));
  CHECK(has(*m, "delete element inet seatlock_fallback dhcp4 { 10.0.0.1 }\n"));
  CHECK(has(*m, "add element inet seatlock dhcp4 { 10.0.0.2 }\n"));
  CHECK_FALSE(has(*m, "255.255.255.255"));
  CHECK(moved_c.generation == next_generation(leased_c.generation));
}

TEST_CASE("a new generation refills each table's decided chain with the new constant",
          "[net][set_update]") {
  NetRules rules = lab_rules();
  CompiledRuleset c = compile_ruleset(rules, kNow);
  c.generation = 5;
  const std::string t = generation_update(c);
  CHECK(t ==
        "flush map inet seatlock stamp\n"
        "add element inet seatlock stamp { 0x00000000 : 0x00050000, 0x20000000 : 0x20050000 }\n"
        "flush chain inet seatlock decided\n"
        "add rule inet seatlock decided ct mark and 0xdfffffff == 0x00050000 counter name "
        "connection_decided accept\n"
        "flush map inet seatlock_fallback stamp\n"
        "add element inet seatlock_fallback stamp { 0x00000000 : 0x00050000, 0x20000000 : "
        "0x20050000 }\n"
        "flush chain inet seatlock_fallback decided\n"
        "add rule inet seatlock_fallback decided ct mark and 0xdfffffff == 0x00050000 accept\n");
  // A fresh compile of the same generation writes the same rule into each table.
  const std::string full = full_transaction(rules, c);
  CHECK(full.find("  chain decided {\n    ct mark and 0xdfffffff == 0x00050000 counter name "
                  "connection_decided accept\n  }\n") != std::string::npos);
  CHECK(full.find("  chain decided {\n    ct mark and 0xdfffffff == 0x00050000 accept\n  }\n") !=
        std::string::npos);
}

TEST_CASE("an allow entry replaces only the merged elements it touches", "[net][set_update]") {
  NetRules before = lab_rules();
  CompiledRuleset old_c = compile_ruleset(before, kNow);
  NetRules after = before;
  after.allow.push_back(tcp_to("192.0.3.0", 24, 8080));  // adjacent: merges with 192.0.2.0/24
  CompiledRuleset new_c = compile_ruleset(after, kNow, before, old_c);
  auto t = set_update_transaction(old_c, new_c, kNow);
  REQUIRE(t);
  CHECK(has(*t, "delete element inet seatlock base4 { 192.0.2.0-192.0.2.255 . 6 . 8080 }\n"));
  CHECK(has(*t, "add element inet seatlock base4 { 192.0.2.0-192.0.3.255 . 6 . 8080 }\n"));
  CHECK_FALSE(has(*t, "10.0.0.0"));
  CHECK(t->find("delete") < t->find("add"));  // deletes first: the new box overlaps the old
  CHECK(new_c.sets == compile_ruleset(after, kNow).sets);
}

TEST_CASE("close and open are in place but a change of mode or chains or other sets is not",
          "[net][set_update]") {
  NetRules before = lab_rules();
  const CloseAndOpen c = close_and_open(before);
  REQUIRE(c.close);
  INFO(*c.close);
  // Close: no element changes, the allow chains look in the essential sets instead, and a new
  // generation re-checks every live connection.
  CHECK(c.closed.generation == next_generation(c.open.generation));
  CHECK_FALSE(has(*c.close, " element inet seatlock base4"));
  CHECK_FALSE(has(*c.close, " element inet seatlock_fallback exc4"));
  for (const char* table : {"seatlock", "seatlock_fallback"}) {
    const std::string chain = std::string(" inet ") + table + " allow_";
    CHECK(has(*c.close, "flush chain" + chain + "out\nadd rule" + chain +
                            "out ip daddr . meta l4proto . th dport @ess4 goto accepted\n"));
    CHECK(has(*c.close, "flush chain" + chain + "fwd\nadd rule" + chain +
                            "fwd ip daddr . meta l4proto . th dport @ess4 goto accepted\n"));
  }
  CHECK_FALSE(has(*c.close, "@base4"));
  CHECK_FALSE(has(*c.close, "@exc4"));
  CHECK(has(*c.close, "flush chain inet seatlock decided\n"));
  NetRules closed = before;
  closed.closed = true;
  CHECK(c.closed.allow_out == compile_ruleset(closed, kNow).allow_out);

  // Open: the rules come back, nothing is taken away, so live flows keep their generation.
  REQUIRE(c.reopen);
  INFO(*c.reopen);
  CHECK(c.reopened.generation == c.closed.generation);
  CHECK(has(*c.reopen,
            "add rule inet seatlock allow_out ip daddr . meta l4proto . th dport "
            "@base4 goto accepted\n"));
  CHECK(has(*c.reopen,
            "add rule inet seatlock_fallback allow_out meta skuid . ip daddr . meta "
            "l4proto . th dport @exc4 accept\n"));
  CHECK_FALSE(has(*c.reopen, "element"));
  CHECK_FALSE(has(*c.reopen, "decided"));
  CHECK(c.reopened.allow_out == c.open.allow_out);

  NetRules audit = before;
  audit.mode = Mode::Audit;
  CompiledRuleset audit_c = compile_ruleset(audit, kNow);
  CHECK_FALSE(set_update_transaction(c.open, audit_c, kNow));
  NetRules resolvers = before;
  resolvers.dns = {"10.0.0.54"};  // the management sets change
  CompiledRuleset resolvers_c = compile_ruleset(resolvers, kNow);
  CHECK_FALSE(set_update_transaction(c.open, resolvers_c, kNow));
}

// Regression (issue 18): closing took every non-essential element out of the seat-wide sets, so
// at 10,000 allow entries it was over kMaxInPlaceChanges and replaced both tables (counters
// reset, ~350 ms for the open).
TEST_CASE("close and open of a seat with 10,000 allow entries change no element",
          "[net][set_update]") {
  NetRules before = lab_rules();
  for (int i = 0; i < 10'000; ++i)
    before.allow.push_back(
        tcp_to("100." + std::to_string(64 + i / 256) + "." + std::to_string(i % 256) + ".0", 24,
               std::uint16_t(22 + 2 * (i % 2))));
  before.allow.front().essential = true;
  const CloseAndOpen c = close_and_open(before);
  REQUIRE(c.close);
  CHECK_FALSE(has(*c.close, "element inet seatlock base4"));
  CHECK(c.close->size() < 4000);  // two chains of a few rules per table, and the generation
  // What the chains use now: ess4's essential entry and DNS (tcp), ess4's DNS (udp).
  CHECK(c.closed.base_elements == 3);
  REQUIRE(c.reopen);
  CHECK(c.reopen->size() < 4000);
  CHECK(c.reopened.base_elements == c.open.base_elements);
}

TEST_CASE("more changed elements than kMaxInPlaceChanges replace the tables", "[net][set_update]") {
  NetRules before = lab_rules();
  CompiledRuleset old_c = compile_ruleset(before, kNow);
  NetRules after = before;
  for (std::size_t i = 0; i <= kMaxInPlaceChanges; ++i)
    after.allow.push_back(
        tcp_to("100." + std::to_string(64 + i / 256) + "." + std::to_string(i % 256) + ".0", 24,
               22 + 2 * (i % 2)));
  CompiledRuleset after_c = compile_ruleset(after, kNow);
  CHECK_FALSE(set_update_transaction(old_c, after_c, kNow));
}

TEST_CASE("a recompile from the ruleset in force equals a fresh compile over a run of changes",
          "[net][set_update]") {
  // Random changes one after the other (allow entries added and removed, exceptions granted,
  // revoked and expiring, close and open, a new resolver): each recompile from the previous
  // one must write exactly what a fresh compile writes, and share what did not change.
  std::mt19937 rng(18);
  NetRules rules = lab_rules();
  UnixMillis now = kNow;
  CompiledRuleset in_force = compile_ruleset(rules, now);
  int shared_seat_wide = 0;
  for (int step = 0; step < 200; ++step) {
    NetRules next = rules;
    UnixMillis at = now;
    switch (rng() % 7) {
      case 0:
        next.allow.push_back(
            tcp_to("10." + std::to_string(rng() % 256) + "." + std::to_string(rng() % 256) + ".0",
                   16 + int(rng() % 17), std::uint16_t(80 + rng() % 3)));
        break;
      case 1:
        if (next.allow.size() > 1) next.allow.erase(next.allow.begin() + rng() % next.allow.size());
        break;
      case 2: {
        ResolvedException x = lab_rules().exceptions.front();
        x.ticket = "T-" + std::to_string(step);
        x.uids = {std::uint32_t(1000 + rng() % 4)};
        x.allow = {tcp_to("198.51.100." + std::to_string(rng() % 4 * 64), 26, 443)};
        x.until = now + 1000 + UnixMillis(rng() % 60'000);
        next.exceptions.push_back(x);
        break;
      }
      case 3:
        if (!next.exceptions.empty()) next.exceptions.erase(next.exceptions.begin());
        break;
      case 4:
        at = now + UnixMillis(rng() % 30'000);  // time passes: some exceptions expire
        break;
      case 5:
        next.closed = !next.closed;
        break;
      default:
        next.dns = {rng() % 2 ? "10.0.0.53" : "10.0.0.54"};
        break;
    }
    CompiledRuleset c = compile_ruleset(next, at, rules, in_force);
    CompiledRuleset fresh = compile_ruleset(next, at);
    REQUIRE(c.sets == fresh.sets);
    REQUIRE(c.skeleton == fresh.skeleton);
    REQUIRE(c.owned_chains == fresh.owned_chains);
    REQUIRE(c.fallback_chains == fresh.fallback_chains);
    REQUIRE(c.allow_out == fresh.allow_out);
    REQUIRE(c.allow_fwd == fresh.allow_fwd);
    REQUIRE(c.base_elements == fresh.base_elements);
    REQUIRE(c.exception_elements == fresh.exception_elements);
    if (c.pieces.count({0, 4, "tcp", -1}) && in_force.pieces.count({0, 4, "tcp", -1}) &&
        c.pieces.at({0, 4, "tcp", -1}) == in_force.pieces.at({0, 4, "tcp", -1}))
      ++shared_seat_wide;
    // The in-place transaction and the one from a fresh compile say the same.
    REQUIRE(set_update_transaction(in_force, c, at) == set_update_transaction(in_force, fresh, at));
    rules = next;
    now = at;
    in_force = std::move(c);
  }
  CHECK(shared_seat_wide > 50);  // exceptions and time alone leave base4 as it was
}
