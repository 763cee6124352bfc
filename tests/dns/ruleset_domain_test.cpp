// The nftables text for domain entries and the DNS guard (no root; `nft --check` of the same
// text runs in the netns tests).
#include <catch2/catch.hpp>

#include "core/net/domain_rules.hpp"
#include "core/net/ruleset.hpp"

using namespace seatlock;
using namespace seatlock::net;

namespace {

const UnixMillis kNow = 1'800'000'000'000;

NetRules guarded(Mode mode = Mode::Enforce) {
  NetRules r;
  r.mode = mode;
  r.dns = {"10.0.0.53", "fd00::53"};
  r.allow_domains = {
      {{"crm.example.com", "*.crm.example.com"}, {{443, 443}, {8443, 8444}}, "tcp", ""},
      {{"sip.example.net"}, {}, "any", ""}};
  r.dns_guard_port = kDnsGuardPort;
  ResolvedException x;
  x.ticket = "IT-1";
  x.uids = {1001, 1002};
  x.until = kNow + 3'600'000;
  x.allow_domains = {{{"portal.example.org"}, {{443, 443}}, "tcp", ""}};
  r.exceptions.push_back(x);
  return r;
}

bool has(const std::string& text, const std::string& what) {
  return text.find(what) != std::string::npos;
}

}  // namespace

TEST_CASE("each domain entry gets a timeout set per family, used with its ports and protocol",
          "[dns][unit]") {
  NetRules r = guarded();
  auto c = compile_ruleset(r, kNow);
  CHECK(has(c.sets, "  set dom0_4 {\n    type ipv4_addr\n    flags timeout\n  }\n"));
  CHECK(has(c.sets, "  set dom1_6 {\n    type ipv6_addr\n    flags timeout\n  }\n"));
  CHECK(has(c.sets, "  set xdom0_0_4 {"));
  // The exception's uids lose access at `until` in the kernel.
  CHECK(has(c.sets,
            "  set xuid0 {\n    type uid\n    flags timeout\n    elements = { 1001 "
            "timeout 1h, 1002 timeout 1h }\n"));
  CHECK(has(output_chain(r, true, 0), "    jump allow_out\n"));
  const std::string out = allow_out_rules(r);
  // A network.allow entry's connections carry the ct mark bit, and established ones with it
  // pass even after their address's element expired.
  CHECK(has(out,
            "    meta l4proto 6 th dport { 443, 8443-8444 } ip daddr @dom0_4 ct mark set ct mark "
            "or 0x20000000 accept\n"));
  CHECK(has(out,
            "    meta l4proto 6 th dport { 443, 8443-8444 } ip6 daddr @dom0_6 ct mark set ct mark "
            "or 0x20000000 accept\n"));
  CHECK(has(out, "    ip daddr @dom1_4 ct mark set ct mark or 0x20000000 accept\n"));  // any port
  CHECK(has(out, "    ct state established ct mark and 0x20000000 == 0x20000000 accept\n"));
  CHECK(out.find("ct state established ct mark") < out.find("@dom0_4"));
  CHECK(has(out,
            "    meta skuid @xuid0 meta l4proto 6 th dport { 443 } ip daddr @xdom0_0_4 "
            "accept\n"));
  // Forwarded traffic gets the seat-wide entries only.
  const std::string fwd = allow_forward_rules(r);
  CHECK(has(fwd, "ip daddr @dom1_4 ct mark set ct mark or 0x20000000 accept"));
  CHECK(has(fwd, "ct state established ct mark and 0x20000000 == 0x20000000 accept"));
  CHECK_FALSE(has(fwd, "xdom"));
  // `net close` suspends the exceptions' names too: no rule looks at them. Their sets stay (so
  // the guard can fill them), the uid set with its elements (so `net open` adds none).
  CHECK(has(allow_out_rules(r), "xdom"));
  r.closed = true;
  CHECK_FALSE(has(allow_out_rules(r), "xdom"));
  CHECK_FALSE(has(allow_out_rules(r), "xuid"));
  CHECK(has(compile_ruleset(r, kNow).sets, "set xdom0_0_4 {"));
  CHECK(has(compile_ruleset(r, kNow).sets, "1001 timeout"));
}

TEST_CASE("with the guard, only its marked sockets reach the resolvers and DNS goes to it",
          "[dns][unit]") {
  NetRules r = guarded();
  auto c = compile_ruleset(r, kNow);
  // The resolvers are no longer in the seat-wide allowlist...
  CHECK_FALSE(has(c.sets, "10.0.0.53 . 17 . 53"));
  CHECK(has(c.sets, "  set dnsres4 {\n    type ipv4_addr\n    elements = { 10.0.0.53 }\n"));
  CHECK(has(c.sets, "  set dnsres6 {\n    type ipv6_addr\n    elements = { fd00::53 }\n"));
  const std::string out = output_chain(r, true, 0);
  // Redirected queries reach the guard (their oifname is still the routed interface).
  CHECK(has(out, "    meta l4proto { 6, 17 } th dport 5399 ip daddr 127.0.0.1 accept\n"));
  CHECK(has(out, "    meta l4proto { 6, 17 } th dport 5399 ip6 daddr ::1 accept\n"));
  // ...but in a rule for the guard's mark, before the allowlists; DoT is denied before them too.
  const auto marked = out.find(
      "meta mark 0x534c0053 meta l4proto { 6, 17 } th dport 53 ip daddr "
      "@dnsres4 accept\n");
  const auto dot = out.find("    meta l4proto { 6, 17 } th dport 853 counter name denied drop\n");
  const auto base = out.find("    jump allow_out\n");
  REQUIRE(base != std::string::npos);
  REQUIRE(marked != std::string::npos);
  REQUIRE(dot != std::string::npos);
  CHECK(marked < base);
  CHECK(dot < base);
  CHECK(has(out, "th dport 853 limit rate 50/second log group 4711 prefix \"sl-deny \"\n"));
  // Port 53 of any other socket that escaped the redirect (a conntrack tuple the guard's own
  // upstream flow left) is dropped before the allowlists could accept it for a CIDR.
  const auto direct = out.find(
      "    meta mark != 0x534c0053 meta l4proto { 6, 17 } th dport 53 counter name "
      "denied drop\n");
  REQUIRE(direct != std::string::npos);
  CHECK(marked < direct);
  CHECK(direct < base);
  CHECK(has(out,
            "    meta mark != 0x534c0053 meta l4proto { 6, 17 } th dport 53 limit rate 50/second "
            "log group 4711 prefix \"sl-deny \"\n"));
  CHECK(has(output_chain(r, false, 10),
            "    meta mark != 0x534c0053 meta l4proto { 6, 17 } th dport 53 counter name "
            "denied drop\n"));
  // Every other socket's DNS is redirected to the guard (not the guard's own: no loop).
  const std::string chains = filter_chains(r, true, 0);
  CHECK(has(chains,
            "  chain dns_redirect {\n    type nat hook output priority -100; policy "
            "accept;\n    meta mark != 0x534c0053 udp dport 53 redirect to :5399\n    "
            "meta mark != 0x534c0053 tcp dport 53 redirect to :5399\n  }\n"));
  // The guard's upstream flows get a conntrack zone of their own, both ways, before conntrack
  // (raw priority): a client on the same source port is then a new flow, redirected.
  CHECK(has(chains,
            "  chain dns_zone_out {\n    type filter hook output priority -300; policy accept;\n"
            "    meta mark 0x534c0053 ct zone set 21324\n"
            "    ip saddr @dnsres4 meta l4proto { 6, 17 } th sport 53 ct zone set 21324\n"
            "    ip6 saddr @dnsres6 meta l4proto { 6, 17 } th sport 53 ct zone set 21324\n  }\n"));
  CHECK(has(chains,
            "  chain dns_zone_in {\n    type filter hook prerouting priority -300; policy accept;\n"
            "    fib daddr type local ip saddr @dnsres4 meta l4proto { 6, 17 } th sport 53 ct "
            "zone set 21324\n    fib daddr type local ip6 saddr @dnsres6 meta l4proto { 6, 17 } "
            "th sport 53 ct zone set 21324\n  }\n"));
  // Forwarded DNS (a container behind the seat) is not redirected: denied, logged.
  const std::string forward = chains.substr(chains.find("chain forward"));
  CHECK(has(forward,
            "    meta l4proto { 6, 17 } th dport { 53, 853 } limit rate 50/second log group "
            "4711 prefix \"sl-fwd-deny \"\n    meta l4proto { 6, 17 } th dport { 53, 853 } "
            "counter name forward_denied drop\n"));
  CHECK(forward.find("dport { 53, 853 }") < forward.find("@base4"));
  // The fallback table redirects too (guard down = names do not resolve), without logging; no
  // zone there (no guard runs while only the fallback table is left).
  const std::string fallback = filter_chains(r, false, 10);
  CHECK(has(fallback, "type nat hook output priority -90;"));
  CHECK_FALSE(has(fallback, "log group"));
  CHECK_FALSE(has(fallback, "ct zone"));
}

TEST_CASE("audit mode: DoT is logged and accepted, the fallback table keeps DNS direct",
          "[dns][unit]") {
  NetRules r = guarded(Mode::Audit);
  const std::string owned = filter_chains(r, true, 0);
  CHECK_FALSE(has(owned, "drop"));
  CHECK(has(owned, "th dport 853 limit rate 50/second log group 4711 prefix \"sl-audit \"\n"));
  CHECK(has(owned, "th dport 853 counter name audited accept\n"));
  CHECK(has(owned, "th dport { 53, 853 } counter name audited accept\n"));  // forwarded
  CHECK(has(owned,
            "meta mark != 0x534c0053 meta l4proto { 6, 17 } th dport 53 counter name "
            "audited accept\n"));
  CHECK(has(owned, "chain dns_redirect"));
  CHECK_FALSE(has(filter_chains(r, false, 10), "dns_redirect"));
}

TEST_CASE("without domain entries nothing changes: resolvers stay on the allowlist",
          "[dns][unit]") {
  NetRules r;
  r.dns = {"10.0.0.53"};
  auto c = compile_ruleset(r, kNow);
  CHECK(has(c.sets, "10.0.0.53 . 17 . 53"));
  CHECK_FALSE(has(c.sets, "dnsres4"));
  const std::string chains = filter_chains(r, true, 0);
  CHECK_FALSE(has(chains, "dns_redirect"));
  CHECK_FALSE(has(chains, "853"));
}

TEST_CASE("domain entries and the guard port survive the fallback file's JSON", "[dns][unit]") {
  NetRules r = guarded();
  NetRules back = net_rules_from_json(to_json(r));
  CHECK(back.dns_guard_port == kDnsGuardPort);
  REQUIRE(back.allow_domains.size() == 2);
  CHECK(back.allow_domains[0].names == r.allow_domains[0].names);
  CHECK(back.allow_domains[0].ports == r.allow_domains[0].ports);
  REQUIRE(back.exceptions.size() == 1);
  REQUIRE(back.exceptions[0].allow_domains.size() == 1);
  CHECK(back.exceptions[0].allow_domains[0].names ==
        std::vector<std::string>{"portal.example.org"});
  CHECK(full_transaction(back, compile_ruleset(back, kNow)) ==
        full_transaction(r, compile_ruleset(r, kNow)));
}

TEST_CASE("from the policy, domain entries are carried but inert until a guard runs",
          "[dns][unit]") {
  Policy p;
  p.network.dns = {"10.0.0.53"};
  p.network.allow_domains = {{{"crm.example.com"}, {{443, 443}}, "tcp", ""}};
  NetRules r = make_net_rules(p, {}, {}, std::nullopt, false);
  REQUIRE(r.allow_domains.size() == 1);
  CHECK(r.dns_guard_port == 0);
  // seatlockd does not run the guard yet: DNS must keep working, so no redirect and the
  // resolvers stay on the allowlist; the names admit nothing.
  auto c = compile_ruleset(r, kNow);
  CHECK(has(c.sets, "10.0.0.53 . 17 . 53"));
  CHECK_FALSE(has(c.sets, "dom0_4"));
  CHECK_FALSE(has(filter_chains(r, true, 0), "dns_redirect"));
  // The guard turns it on.
  r.dns_guard_port = kDnsGuardPort;
  CHECK(has(filter_chains(r, true, 0), "redirect to :5399"));
}
