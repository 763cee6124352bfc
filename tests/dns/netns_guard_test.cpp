// The DNS guard's answers in network namespaces (root; the lab in dns_lab.hpp): which names
// resolve and open their addresses, which are refused before reaching the resolver and reported,
// DNS over HTTPS only to a listed endpoint, and the kernel accepting the guard's ruleset.
#include <catch2/catch.hpp>
#include <fstream>

#include "dns_lab.hpp"

using namespace seatlock;
using namespace seatlock::test;
using namespace seatlock::test::dns;

TEST_CASE("an allowed name resolves through the guard and its address becomes reachable",
          "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  // Default deny: the host is not reachable before anyone looked its name up.
  CHECK_FALSE(lab.tcp_ok("10.97.0.80", 8080));

  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  // The answer was sent only after the kernel took the element: no wait needed, in both tables.
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.80 timeout 1m30s"));
  CHECK(contains(lab.set_elements("seatlock_fallback", "dom0_4"), "10.97.0.80 timeout 1m30s"));
  CHECK(lab.tcp_ok("10.97.0.80", 8080));
  CHECK_FALSE(lab.tcp_ok("10.97.0.80", 853));  // the entry's ports only

  // Over TCP too (dig +tcp reaches the guard's TCP listener through the redirect).
  CHECK(lab.dig("+tcp +short crm.example.test A") == "10.97.0.80\n");

  // A CNAME chain that leaves the allowed domain: the final address goes into the set of the
  // entry that admitted the question name.
  CHECK(lab.dig("+short alias.example.test A") == "edge.cdn.test.\n10.97.0.90\n");
  CHECK(contains(lab.set_elements("seatlock", "dom0_4"), "10.97.0.90"));
  CHECK(lab.tcp_ok("10.97.0.90", 8080));
  // ...but the CNAME target itself is not an allowed name.
  CHECK(contains(lab.dig("edge.cdn.test A"), "status: REFUSED"));
}

TEST_CASE("an AAAA answer's address goes into the IPv6 sets and becomes reachable",
          "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  const std::string log = lab.dir() + "/echo6.log";
  auto echo6 = lab.in_remote_background(
      {binary_path("tests/net/sl_net_probe"), "serve", "fd97::80", "8080"}, log);
  REQUIRE(wait_until([&] { return contains(read_file(log), "ready"); }));
  CHECK_FALSE(lab.tcp_ok("fd97::80", 8080));  // default deny before anyone asked
  CHECK(lab.dig("+short crm.example.test AAAA") == "fd97::80\n");
  CHECK(contains(lab.set_elements("seatlock", "dom0_6"), "fd97::80"));
  CHECK(contains(lab.set_elements("seatlock_fallback", "dom0_6"), "fd97::80"));
  CHECK(lab.tcp_ok("fd97::80", 8080));
  CHECK_FALSE(lab.tcp_ok("fd97::80", 853));  // the entry's ports only
}

TEST_CASE("other names are refused without reaching the resolver and are reported",
          "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  CHECK(contains(lab.dig("other.example.test A"), "status: REFUSED"));
  CHECK(contains(lab.dig("+tcp other.example.test A"), "status: REFUSED"));
  // Tunnelling-shaped: long random labels under a domain nobody allowed.
  const std::string tunnel =
      "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHR1bm5lbA.MTIzNDU2Nzg5MGFiY2RlZmdoaWprbG1ub3Bx.t.evil.test";
  CHECK(contains(lab.dig("TXT " + tunnel), "status: REFUSED"));
  CHECK_FALSE(lab.tcp_ok("10.97.0.81", 8080));
  // Any user's query is caught (the guard tells who asked).
  CHECK(contains(lab.in_seat("setpriv --reuid=65534 --regid=65534 --clear-groups dig +time=2 "
                             "+tries=1 @10.97.0.53 nobody.evil.test A"),
                 "status: REFUSED"));
  // A client that never connects its socket (bound to the wildcard address, sendto): its
  // socket table entry says 0.0.0.0, not the address the guard sees; still found (previous
  // main: uid -1).
  CHECK(contains(lab.in_seat("python3 -c \"import socket; "
                             "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
                             "s.bind(('0.0.0.0', 0)); s.settimeout(3); "
                             "q = bytes.fromhex('123401000001000000000000') + b'"
                             "\\x07unbound\\x04evil\\x04test\\x00\\x00\\x01\\x00\\x01'; "
                             "s.sendto(q, ('10.97.0.53', 53)); "
                             "print('rcode', s.recv(512)[3] & 15)\""),
                 "rcode 5"));  // REFUSED
  // The DoH canary gets NXDOMAIN, so browsers keep DNS over HTTPS off.
  CHECK(contains(lab.dig("use-application-dns.net A"), "status: NXDOMAIN"));
  // DNS over TLS to the resolver is denied (a listener is there).
  CHECK_FALSE(lab.tcp_ok("10.97.0.53", 853));

  // An allowed lookup reaches the resolver (so its log works) ...
  CHECK(lab.dig("+short crm.example.test A") == "10.97.0.80\n");
  REQUIRE(wait_until([&] { return contains(read_file(lab.resolver_log()), "crm.example.test"); }));
  // ... the refused ones never did.
  const std::string log = read_file(lab.resolver_log());
  CHECK_FALSE(contains(log, "other.example.test"));
  CHECK_FALSE(contains(log, "evil.test"));
  CHECK_FALSE(contains(log, "use-application-dns"));

  // Aggregated: one net.dns_denied per name and window, UDP and TCP counted together.
  REQUIRE(wait_until([&] { return contains(read_file(lab.events_file()), "evil.test"); }));
  const std::string events = read_file(lab.events_file());
  INFO(events);
  CHECK(contains(events, R"("count":2,)"));
  CHECK(contains(events,
                 R"("name":"other.example.test","qtype":"A","reason":"not-allowed","uid":0,)"));
  CHECK(contains(events,
                 R"("name":"nobody.evil.test","qtype":"A","reason":"not-allowed","uid":65534,)"));
  CHECK(contains(events,
                 R"("name":"unbound.evil.test","qtype":"A","reason":"not-allowed","uid":0,)"));
}

TEST_CASE("DNS over HTTPS only to an endpoint the policy lists", "[dns][netns]") {
  DnsLab lab;
  lab.start_guard(guarded_rules());
  // Listed (an allow entry naming the DoH host on 443): resolves, and 443 is open.
  CHECK(lab.dig("+short doh.example.test A") == "10.97.0.95\n");
  CHECK(lab.tcp_ok("10.97.0.95", 443));
  // Not listed: the name is refused, its address stays closed on 443 (a listener is there).
  CHECK(contains(lab.dig("dns.public-doh.test A"), "status: REFUSED"));
  CHECK_FALSE(lab.tcp_ok("10.97.0.96", 443));
  // Nor does a listed endpoint open another port.
  CHECK_FALSE(lab.tcp_ok("10.97.0.95", 8080));
}

TEST_CASE("the kernel accepts the ruleset with exception names, close and audit", "[dns][netns]") {
  const std::string dir = make_temp_dir("dns-check");
  net::NetRules r = guarded_rules();
  net::ResolvedException x;
  x.ticket = "IT-1";
  x.uids = {0, 65534};
  x.until = 4'000'000'000'000;
  x.allow_domains = {{{"*.portal.example.org"}, {{443, 443}, {8000, 8010}}, "any", ""}};
  r.exceptions.push_back(x);
  r.dns.push_back("fd00::53");
  for (Mode mode : {Mode::Enforce, Mode::Audit})
    for (bool closed : {false, true}) {
      r.mode = mode;
      r.closed = closed;
      const std::string file = dir + "/ruleset.nft";
      std::ofstream(file) << net::full_transaction(r, net::compile_ruleset(r, 1'800'000'000'000));
      // A fresh namespace for nft alone: --check never commits, and never in the host's.
      auto check = run_command({"/usr/bin/unshare", "-n", "/usr/sbin/nft", "--check", "-f", file});
      INFO(to_string(mode) << (closed ? " closed\n" : "\n") << check.out << read_file(file));
      CHECK(check.exit_code == 0);
    }
  sh("rm -rf " + dir);
}
