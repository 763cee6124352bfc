// The DNS guard's pure decisions: which entry admits a name, what goes into which set, for how
// long, and how refusals are aggregated (no root).
#include <catch2/catch.hpp>

#include "core/dns/answer_elements.hpp"
#include "core/dns/dns_denied.hpp"
#include "core/dns/domain_table.hpp"
#include "core/dns/set_commands.hpp"

using namespace seatlock;
using namespace seatlock::dns;
using Type = AnswerRecord::Type;

namespace {

const UnixMillis kNow = 1'800'000'000'000;

net::NetRules rules() {
  net::NetRules r;
  r.dns = {"10.0.0.53"};
  r.dns_guard_port = net::kDnsGuardPort;
  r.allow_domains = {{{"crm.example.com"}, {{443, 443}}, "tcp", ""},
                     {{"*.tickets.example"}, {}, "any", ""}};
  net::ResolvedException x;
  x.uids = {1001};
  x.until = kNow + 60'000;
  x.allow_domains = {{{"portal.example.org", "crm.example.com"}, {}, "any", ""}};
  r.exceptions.push_back(x);
  return r;
}

std::vector<std::string> sets_of(const std::vector<DomainTarget>& t) {
  std::vector<std::string> out;
  for (const auto& x : t) out.push_back(x.set4);
  return out;
}

}  // namespace

TEST_CASE("names match exactly or below a wildcard, in any case, with or without the dot",
          "[dns][unit]") {
  DomainTable t(rules(), kNow);
  CHECK(sets_of(t.match("crm.example.com")) == std::vector<std::string>{"dom0_4", "xdom0_0_4"});
  CHECK(sets_of(t.match("CRM.Example.COM.")) == std::vector<std::string>{"dom0_4", "xdom0_0_4"});
  CHECK(sets_of(t.match("a.b.tickets.example")) == std::vector<std::string>{"dom1_4"});
  CHECK(t.match("tickets.example").empty());  // a wildcard is strictly below its domain
  CHECK(t.match("xtickets.example").empty());
  CHECK(t.match("evil-crm.example.com").empty());
  CHECK(t.match("crm.example.com.evil.net").empty());
  CHECK(sets_of(t.match("portal.example.org")) == std::vector<std::string>{"xdom0_0_4"});
  // An expired exception admits nothing; neither does a closed seat's.
  CHECK(DomainTable(rules(), kNow + 60'000).match("portal.example.org").empty());
  auto closed = rules();
  closed.closed = true;
  CHECK(DomainTable(closed, kNow).match("portal.example.org").empty());
  CHECK(is_doh_canary("Use-Application-DNS.net."));
  CHECK_FALSE(is_doh_canary("x.use-application-dns.net"));
}

TEST_CASE("answer addresses follow the CNAME chain into the sets of the question's entry",
          "[dns][unit]") {
  DomainTable t(rules(), kNow);
  auto targets = t.match("a.tickets.example");
  std::vector<AnswerRecord> answer = {
      {"A.Tickets.Example.", Type::CNAME, 300, "edge.cdn.net."},  // leaves the allowed domain
      {"edge.cdn.net.", Type::CNAME, 300, "e1.cdn.net."},
      {"e1.cdn.net.", Type::A, 20, "192.0.2.10"},
      {"e1.cdn.net.", Type::AAAA, 7200, "2001:db8::10"},
      {"unrelated.example.", Type::A, 300, "198.51.100.66"},  // not on the chain: ignored
  };
  auto e = answer_elements("a.tickets.example", answer, targets);
  CHECK(e.elements == std::vector<SetElement>{{"dom1_4", "192.0.2.10", 30'000 + 60'000},
                                              {"dom1_6", "2001:db8::10", 7'200'000 + 60'000}});
  CHECK(e.addresses == 2);
}

TEST_CASE("timeouts: TTL raised to the floor, capped at a day, plus the grace", "[dns][unit]") {
  TimeoutPolicy p;
  CHECK(element_timeout_ms(0, p) == 90'000);
  CHECK(element_timeout_ms(45, p) == 105'000);
  CHECK(element_timeout_ms(7 * 86'400, p) == 86'400'000 + 60'000);
}

TEST_CASE("a name with many addresses is capped, and the cap is counted", "[dns][unit]") {
  DomainTable t(rules(), kNow);
  std::vector<AnswerRecord> answer;
  for (int i = 0; i < 100; ++i)
    answer.push_back({"crm.example.com", Type::A, 60, "10.1.0." + std::to_string(i)});
  answer.push_back(answer.front());  // a duplicate counts once
  TimeoutPolicy p;
  p.cap_per_name = 40;
  auto e = answer_elements("crm.example.com", answer, {t.match("crm.example.com")[0]}, p);
  CHECK(e.elements.size() == 40);
  CHECK(e.addresses == 100);
  CHECK(e.capped == 60);
}

TEST_CASE("a CNAME loop ends", "[dns][unit]") {
  std::vector<AnswerRecord> answer = {{"crm.example.com", Type::CNAME, 60, "b.example.net"},
                                      {"b.example.net", Type::CNAME, 60, "crm.example.com"},
                                      {"b.example.net", Type::A, 60, "192.0.2.1"}};
  DomainTable t(rules(), kNow);
  auto e = answer_elements("crm.example.com", answer, {t.match("crm.example.com")[0]});
  CHECK(e.elements == std::vector<SetElement>{{"dom0_4", "192.0.2.1", 120'000}});
}

TEST_CASE("refused names aggregate per user and name, bounded per window", "[dns][unit]") {
  DnsDeniedAggregator agg(2);
  CHECK(agg.add({1001, "a.evil.net", "not-allowed"}, "A", kNow));
  CHECK_FALSE(agg.add({1001, "a.evil.net", "not-allowed"}, "AAAA", kNow + 5));
  agg.add({1002, "a.evil.net", "not-allowed"}, "A", kNow + 6);
  for (int i = 0; i < 50; ++i)
    agg.add({1001, "x" + std::to_string(i) + ".tunnel.evil.net", "not-allowed"}, "TXT", kNow + 7);
  auto w = agg.take(kNow + 60'000);
  REQUIRE(w.groups.size() == 2);
  CHECK(w.groups[0].count == 2);
  CHECK(w.groups[0].qtype == "A");
  CHECK(w.overflow_queries == 50);
  CHECK(w.overflow_names == 50);
  auto d = dns_denied_details(w.groups[0], w, "alice");
  CHECK(d["user"] == "alice");
  CHECK(d["uid"] == 1001);
  CHECK(d["name"] == "a.evil.net");
  CHECK(d["count"] == 2);
  CHECK(d["window_end"] == format_rfc3339_ms(kNow + 60'000));  // like net.egress_denied
  CHECK(dns_denied_overflow_details(w)["count"] == 50);
  CHECK(agg.empty());
}

TEST_CASE("the collector's host name is always admitted, into the management sets", "[dns][unit]") {
  net::NetRules r = rules();
  r.collector_host = "Collector.Example.NET";
  r.collector_port = 8443;
  const auto targets = DomainTable(r, kNow).match("collector.example.net.");
  REQUIRE(targets.size() == 1);
  CHECK(targets[0].set4 == "mgmt4");
  CHECK(targets[0].set6 == "mgmt6");
  // Its answers become "addr . tcp . port" elements, written like the domain sets'.
  auto e = answer_elements("collector.example.net",
                           {{"collector.example.net.", Type::A, 20, "10.9.0.5"},
                            {"collector.example.net.", Type::AAAA, 20, "fd00::5"}},
                           targets);
  CHECK(e.elements == std::vector<SetElement>{{"mgmt4", "10.9.0.5", 90'000, " . 6 . 8443"},
                                              {"mgmt6", "fd00::5", 90'000, " . 6 . 8443"}});
  CHECK(set_update_commands({e.elements[0]}, {"seatlock"}) ==
        "add element inet seatlock mgmt4 { 10.9.0.5 . 6 . 8443 }\n"
        "delete element inet seatlock mgmt4 { 10.9.0.5 . 6 . 8443 }\n"
        "add element inet seatlock mgmt4 { 10.9.0.5 . 6 . 8443 timeout 1m30s }\n");
  // Even while the internet is closed, when only essential entries admit names.
  r.closed = true;
  CHECK(sets_of(DomainTable(r, kNow).match("collector.example.net")) ==
        std::vector<std::string>{"mgmt4"});
  CHECK(DomainTable(r, kNow).match("crm.example.com").empty());  // not essential
  r.allow_domains[0].essential = true;
  CHECK(sets_of(DomainTable(r, kNow).match("crm.example.com")) ==
        std::vector<std::string>{"dom0_4"});
  // Resolved at start: the names as such (the collector's too), not the wildcards.
  CHECK(DomainTable(r, kNow).exact_names() ==
        std::vector<std::string>{"collector.example.net", "crm.example.com"});
}

TEST_CASE("an element that already lives long enough is not written again", "[dns][unit]") {
  ElementExpiry expiry;
  SetElement first{"dom0_4", "10.0.0.80", 90'000};
  CHECK_FALSE(expiry.covers(first, kNow));  // never written: the answer waits for the kernel
  expiry.extend(first, kNow);
  // The same answer 5 s later: 85 s left of 90 s asked, within the margin (9 s): no write, and
  // what is recorded for it is the time the kernel's element has left.
  SetElement again{"dom0_4", "10.0.0.80", 90'000};
  CHECK(expiry.covers(again, kNow + 5'000));
  CHECK(again.timeout_ms == 85'000);
  // 10 s later only 80 s are left: written again (the caller extends it).
  SetElement later{"dom0_4", "10.0.0.80", 90'000};
  CHECK_FALSE(expiry.covers(later, kNow + 10'000));
  CHECK(later.timeout_ms == 90'000);
  // Another set, or the record cleared after a failed write: written.
  SetElement other{"dom1_4", "10.0.0.80", 90'000};
  CHECK_FALSE(expiry.covers(other, kNow + 1'000));
  expiry.clear();
  CHECK_FALSE(expiry.covers(again, kNow + 5'000));
}
