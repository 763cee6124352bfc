// The DNS guard over time and under load in network namespaces (root; the lab in dns_lab.hpp):
// addresses expiring after TTL and grace, a slow answer next to a fast one, rotating answers and
// a name with many addresses, the collector's name kept fresh by the guard itself.
#include <catch2/catch.hpp>
#include <chrono>
#include <set>

#include "dns_lab.hpp"

using namespace seatlock;
using namespace seatlock::test;
using namespace seatlock::test::dns;

TEST_CASE("an address expires after TTL and grace, a new lookup brings it back", "[dns][netns]") {
  DnsLab lab;
  // The resolver's TTL is 5 s; floor 1 s and grace 1 s instead of 30 s and 60 s.
  lab.start_guard(guarded_rules(), {"--floor-ms", "1000", "--grace-ms", "1000"});
  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.80 timeout 6s"));
  CHECK(lab.tcp_ok("10.97.0.80", 8080));
  CHECK(wait_until([&] { return !contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.80"); },
                   15'000));
  CHECK_FALSE(lab.tcp_ok("10.97.0.80", 8080));
  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  CHECK(lab.tcp_ok("10.97.0.80", 8080));
}

TEST_CASE("a slow answer for one name does not hold up another client's query", "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  // slow.example.test: the zone server answers after 1.8 s. Its query is in flight...
  const std::string slow_log = lab.dir() + "/slow.dig";
  auto slow = lab.in_seat_background("dig +time=6 +tries=1 +short @10.97.0.53 slow.example.test A",
                                     slow_log);
  REQUIRE(wait_until([&] { return contains(read_file(lab.zone_log()), "slow.example.test"); }));
  // ...while another client's name resolves at once (dig gives up after 2 s).
  const auto start = std::chrono::steady_clock::now();
  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  const auto fast_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::steady_clock::now() - start)
                           .count();
  CHECK(fast_ms < 700);  // one query at a time, it waited for the slow one (about 1.7 s)
  CHECK(read_file(slow_log).empty());  // the slow one is still waiting
  // The slow one gets its answer, its address in the set when it does.
  REQUIRE(wait_until([&] { return !read_file(slow_log).empty(); }, 8'000));
  CHECK(read_file(slow_log) == "10.97.0.91\n");
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.91"));
  CHECK(lab.tcp_ok("10.97.0.80", 8080));
}

TEST_CASE("rotating answers and a name with many addresses over TCP: every address up to the cap",
          "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules(), {"--max-addresses", "64"});
  // Each answer names another address (TTL 0): each goes into the set with its own timeout
  // (the floor), so a client that got any of them can connect.
  std::set<std::string> rotated;
  for (int i = 0; i < 3; ++i) rotated.insert(lab.dig("+short rotate.example.test A"));
  CHECK(rotated == std::set<std::string>{"10.97.0.92\n", "10.97.0.93\n", "10.97.0.94\n"});
  const std::string set = lab.set_elements("seatlock", "dom0_4");
  for (const char* a : {"10.97.0.92 ", "10.97.0.93 ", "10.97.0.94 "}) CHECK(contains(set, a));

  // 100 addresses: too large for UDP, dig retries over TCP through the guard. (The truncated
  // UDP answer adds nothing: the guard takes a name's addresses from complete answers only.)
  const std::string many = lab.dig("many.example.test A");
  INFO(many);
  CHECK(contains(many, "Truncated, retrying in TCP mode"));
  std::size_t answered = 0;
  for (auto at = many.find("\tA\t10.97.1."); at != std::string::npos;
       at = many.find("\tA\t10.97.1.", at + 1))
    ++answered;
  CHECK(answered == 100);  // the client gets the whole answer
  // The first 64 (max_addresses_per_name) are in both tables' sets, the rest left out...
  for (const char* table : {"seatlock", "seatlock_fallback"}) {
    const std::string elements = lab.set_elements(table, "dom0_4");
    std::size_t in_set = 0;
    for (int i = 1; i <= 100; ++i)
      in_set += contains(elements, "10.97.1." + std::to_string(i) + " ") ? 1 : 0;
    CHECK(in_set == 64);
  }
  // ...and the cut is reported in the guard's counters.
  lab.stop_guard();
  const std::string log = read_file(lab.guard_log());
  INFO(log);
  CHECK(contains(log, "capped 1 (many.example.test: 100 addresses, 36 left out)"));
  CHECK(contains(log, "dropped 0"));
}

TEST_CASE("the collector's name is looked up again before its elements expire", "[dns][netns]") {
  DnsLab lab;
  net::NetRules rules = guarded_rules();
  rules.collector_host = "collector.example.test";  // report.collector names a host
  rules.collector_port = 443;
  // The resolver's TTL is 5 s; floor 1 s and grace 1 s: an element lives 6 s after an answer.
  lab.start_guard(rules, {"--floor-ms", "1000", "--grace-ms", "1000"});
  CHECK(lab.dig("+short collector.example.test A") == "10.97.0.82\n");
  const std::string element = "10.97.0.82 . tcp . 443";
  CHECK(contains(lab.set_elements("seatlock", "mgmt4"), element));
  CHECK(lab.tcp_ok("10.97.0.82", 443));
  // Nobody asks for the name again: for 12 s (twice TTL + grace) the element never leaves the
  // set and the collector stays reachable (on the previous main it expired after 6 s).
  CHECK_FALSE(wait_until(
      [&] {
        return !contains(lab.set_elements("seatlock", "mgmt4"), element) ||
               !contains(lab.set_elements("seatlock_fallback", "mgmt4"), element);
      },
      12'000));
  CHECK(lab.tcp_ok("10.97.0.82", 443));
  // The guard asked the resolver itself, again and again.
  const std::string log = read_file(lab.resolver_log());
  std::size_t asked = 0;
  for (auto at = log.find("query[A] collector.example.test"); at != std::string::npos;
       at = log.find("query[A] collector.example.test", at + 1))
    ++asked;
  CHECK(asked >= 4);

  // The resolver goes away: the lookups fail, the element ends on its own timeout (no answer
  // extends it, none removes it earlier)...
  lab.stop_resolver();
  CHECK(wait_until([&] { return !contains(lab.set_elements("seatlock", "mgmt4"), element); },
                   15'000));
  // ...and the guard keeps trying: once the resolver is back, the collector is reachable again
  // without any client asking.
  lab.start_resolver();
  CHECK(
      wait_until([&] { return contains(lab.set_elements("seatlock", "mgmt4"), element); }, 12'000));
  CHECK(lab.tcp_ok("10.97.0.82", 443));
}
