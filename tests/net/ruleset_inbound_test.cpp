// Unit tests of the input and forward chains, the reply check in output and the DHCP sets
// (issue 12's egress holes), and of the lease reader that fills the DHCP server set. No root.
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "core/net/fallback_file.hpp"
#include "core/net/net_rules.hpp"
#include "core/net/ruleset.hpp"
#include "os/net/dhcp_leases.hpp"

using namespace seatlock;
using namespace seatlock::net;

namespace {

const UnixMillis kNow = 1'800'000'000'000;

InboundRule ssh_from(const std::string& cidr) {
  auto r = parse_destination(cidr);
  REQUIRE(r);
  return {r->to, {{22, 22}}, "tcp", ""};
}

std::string block(const std::string& text, const std::string& head) {
  auto start = text.find(head);
  REQUIRE(start != std::string::npos);
  return text.substr(start, text.find("\n  }\n", start) - start);
}

bool has(const std::string& text, const std::string& needle) {
  return text.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("the input chain admits only network.inbound sources after the essentials",
          "[net][unit]") {
  NetRules r;
  r.inbound = {ssh_from("10.0.0.0/8"), ssh_from("fd00::/8")};
  auto c = compile_ruleset(r, kNow);
  CHECK(has(block(c.sets, "set in4 {"), "10.0.0.0-10.255.255.255 . 6 . 22"));
  CHECK(has(block(c.sets, "set in6 {"), "fd00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff . 6 . 22"));
  CHECK(c.inbound_elements == 2);
  CHECK(c.base_elements == 0);  // inbound entries never open egress

  const std::string in = input_chain(r, true, 0);
  CHECK(has(in, "type filter hook input priority filter; policy drop;"));
  const std::vector<std::string> order = {
      "meta iif \"lo\" accept",
      "ct direction reply accept",
      "ct state related meta l4proto { 1, 58 } accept",
      "udp sport 67 udp dport 68 accept",
      "udp sport 547 udp dport 546 accept",
      "icmpv6 type { nd-router-advert, nd-neighbor-solicit, nd-neighbor-advert, "
      "mld-listener-query } accept",
      "ip saddr . meta l4proto . th dport @in4 goto accepted",
      "ip6 saddr . meta l4proto . th dport @in6 goto accepted",
      "ip saddr @inany4 goto accepted",
      "ip6 saddr @inany6 goto accepted",
      "meta pkttype { broadcast, multicast } counter name inbound_denied drop",
      "limit rate 50/second log group 4711 prefix \"sl-in-deny \"",
      "counter name inbound_denied drop"};
  std::size_t at = 0;
  for (const auto& rule : order) {
    INFO(rule << "\n" << in);
    auto pos = in.find(rule, at);
    REQUIRE(pos != std::string::npos);
    at = pos + rule.size();
  }
  CHECK_FALSE(has(in, "ct state established"));  // every inbound packet is checked
}

TEST_CASE("output accepts replies only to peers and ports the input chain admits", "[net][unit]") {
  NetRules r;
  const std::string out = output_chain(r, true, 0);
  CHECK_FALSE(has(out, "ct direction reply accept"));  // the old hole
  CHECK(has(out, "ct direction reply ip daddr . meta l4proto . th sport @in4 accept"));
  CHECK(has(out, "ct direction reply ip6 daddr . meta l4proto . th sport @in6 accept"));
  CHECK(has(out, "ct direction reply ip daddr @inany4 accept"));
  CHECK(has(out, "ct direction reply ip6 daddr @inany6 accept"));
}

TEST_CASE("DHCP reaches only the broadcast address and the lease servers", "[net][unit]") {
  NetRules r;
  r.dhcp_servers = {"10.1.0.1", "10.1.0.1", "192.168.7.2"};
  auto c = compile_ruleset(r, kNow);
  CHECK(has(c.sets,
            "set dhcp4 {\n    type ipv4_addr\n    elements = { 10.1.0.1, 192.168.7.2, "
            "255.255.255.255 }\n  }"));
  CHECK(has(c.sets, "set dhcp6 {\n    type ipv6_addr\n    elements = { ff02::1:2 }\n  }"));
  const std::string out = output_chain(r, true, 0);
  CHECK(has(out, "udp sport 68 udp dport 67 ip daddr @dhcp4 accept"));
  CHECK(has(out, "udp sport 546 udp dport 547 ip6 daddr @dhcp6 accept"));
  CHECK_FALSE(has(out, "udp sport 68 udp dport 67 accept"));  // the old "any host" rule
  r.dhcp_servers = {"fd00::1"};
  CHECK_THROWS_AS(compile_ruleset(r, kNow), std::invalid_argument);
}

TEST_CASE("forwarded traffic gets the seat-wide allowlist, never a user's exception",
          "[net][unit]") {
  NetRules r;
  const std::string fwd = forward_chain(r, true, 0);
  CHECK(has(fwd, "type filter hook forward priority filter; policy drop;"));
  CHECK(has(fwd, "    jump allow_fwd\n"));
  const std::string allow = allow_forward_rules(r);
  CHECK(has(allow, "ip daddr . meta l4proto . th dport @base4 goto accepted"));
  CHECK(has(allow, "ip6 daddr @any6 goto accepted"));
  CHECK_FALSE(has(allow, "skuid"));
  CHECK(has(fwd, "udp sport 68 udp dport 67 ip daddr @dhcp4 accept"));
  CHECK(has(fwd, "log group 4711 prefix \"sl-fwd-deny \""));
  CHECK(has(fwd, "counter name forward_denied drop"));
  CHECK_FALSE(has(fwd, "skuid"));  // forwarded packets have no local socket
  CHECK_FALSE(has(fwd, "@in4"));
}

TEST_CASE("all three chains are in both tables, audit never drops, the fallback never logs",
          "[net][unit]") {
  NetRules r;
  r.inbound = {ssh_from("10.0.0.0/8")};
  auto c = compile_ruleset(r, kNow);
  const std::string t = full_transaction(r, c);
  const std::string owned = t.substr(0, t.find("add table inet seatlock_fallback"));
  const std::string fallback = fallback_transaction(r, c);
  for (const char* chain : {"chain output {", "chain input {", "chain forward {"}) {
    CHECK(has(owned, chain));
    CHECK(has(fallback, chain));
  }
  CHECK(has(fallback, "type filter hook input priority filter + 10; policy drop;"));
  CHECK(has(fallback, "type filter hook forward priority filter + 10; policy drop;"));
  CHECK_FALSE(has(fallback, " log "));
  r.mode = Mode::Audit;
  const std::string audit = filter_chains(r, true, 0);
  CHECK_FALSE(has(audit, "drop"));
  CHECK(has(audit, "prefix \"sl-in-audit \""));
  CHECK(has(audit, "prefix \"sl-fwd-audit \""));
  CHECK(has(audit, "meta pkttype { broadcast, multicast } counter name audited accept"));
}

TEST_CASE("inbound entries and DHCP servers survive the fallback file, old files still load",
          "[net][unit]") {
  NetRules r;
  r.inbound = {ssh_from("10.0.0.0/8")};
  r.dhcp_servers = {"10.1.0.1"};
  auto c = compile_ruleset(r, kNow);
  auto back = rules_from_fallback_file(render_fallback_file(r, c, kNow));
  REQUIRE(back);
  CHECK(to_json(*back) == to_json(r));
  nlohmann::json old = to_json(r);
  old.erase("inbound");
  old.erase("dhcp_servers");
  NetRules from_old = net_rules_from_json(old);
  CHECK(from_old.inbound.empty());
  CHECK(from_old.dhcp_servers.empty());
}

TEST_CASE("DHCP servers are read from dhclient, NetworkManager and networkd leases",
          "[net][unit]") {
  CHECK(parse_lease_servers("lease {\n  option dhcp-server-identifier 10.1.0.1;\n}\n"
                            "lease {\n  option dhcp-server-identifier 10.1.0.2;\n}\n") ==
        std::vector<std::string>{"10.1.0.1", "10.1.0.2"});
  CHECK(parse_lease_servers("ADDRESS=10.1.2.3\nSERVER_ADDRESS=10.1.0.9\n") ==
        std::vector<std::string>{"10.1.0.9"});
  CHECK(parse_lease_servers("option dhcp-server-identifier not-an-ip;\nSERVER_ADDRESS=\n").empty());

  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("sl-leases-" + std::to_string(getpid()));
  fs::create_directories(root / "var/lib/dhcp");
  fs::create_directories(root / "run/systemd/netif/leases");
  std::ofstream(root / "var/lib/dhcp/dhclient.eth0.leases")
      << "option dhcp-server-identifier 10.1.0.1;\n";
  std::ofstream(root / "run/systemd/netif/leases/2") << "SERVER_ADDRESS=10.1.0.1\n"
                                                     << "SERVER_ADDRESS=10.2.0.1\n";
  auto servers = dhcp_lease_servers(root.string());
  std::sort(servers.begin(), servers.end());
  CHECK(servers == std::vector<std::string>{"10.1.0.1", "10.2.0.1"});
  CHECK(dhcp_lease_servers((root / "missing").string()).empty());
  fs::remove_all(root);
}
