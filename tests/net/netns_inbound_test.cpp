// Inbound, forwarded and DHCP traffic end to end in network namespaces (the egress holes of
// issue 12): a listener on the seat answers only network.inbound sources, a container routed
// through the seat gets the seat's allowlist, udp 67 reaches only broadcast and the lease's
// server, and audit mode drops none of it. Needs root.
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <future>

#include "netns_lab.hpp"

using namespace seatlock::nettest;
using nlohmann::json;

namespace {

// The lab's policy with one inbound entry: tcp 7070 from 10.99.0.2.
json inbound_policy(const json& extra_network = json::object()) {
  json network = {
      {"inbound", json::array({{{"from", "10.99.0.2/32"}, {"ports", {7070}}, {"proto", "tcp"}}})}};
  network.update(extra_network);
  return lab_policy(network);
}

bool ctr_tcp_ok(const NetLab& lab, const std::string& host, int port) {
  return lab.in_container(lab.probe() + " tcp " + host + " " + std::to_string(port) + " 700")
             .status == 0;
}

}  // namespace

TEST_CASE("a container routed through the seat reaches allowed destinations only", "[net][netns]") {
  NetLab lab;
  lab.add_container();
  lab.write_policy("50-lab.json", inbound_policy());
  REQUIRE(ctr_tcp_ok(lab, "10.99.0.80", 443));  // the lab forwards before seatlockd runs
  lab.start_daemon();

  CHECK(ctr_tcp_ok(lab, "10.99.0.2", 8080));        // on the allowlist
  CHECK_FALSE(ctr_tcp_ok(lab, "10.99.0.80", 443));  // not on it
  CHECK_FALSE(ctr_tcp_ok(lab, "10.99.0.2", 9090));  // allowed host, other port
  CHECK(lab.in_container(lab.probe() + " udp 10.99.0.53 53 700").status == 0);  // the resolver
  CHECK(lab.wait_event(
      "net.forward_denied",
      [](const json& e) {
        const json& d = e["details"];
        return d["saddr"] == "10.98.0.2" && d["daddr"] == "10.99.0.80" && d["dport"] == 443 &&
               e["outcome"] == "blocked";
      },
      4000));
  // Fail-closed: with seatlockd gone the fallback table still filters forwarded traffic.
  lab.kill_daemon(SIGKILL);
  CHECK(ctr_tcp_ok(lab, "10.99.0.2", 8080));
  CHECK_FALSE(ctr_tcp_ok(lab, "10.99.0.80", 443));
}

TEST_CASE("a listener on the seat answers only the sources network.inbound allows",
          "[net][netns]") {
  NetLab lab;
  lab.serve_in_seat({7070, 7071});
  lab.write_policy("50-lab.json", inbound_policy());
  // A connection a non-allowed address opened before the lockdown...
  auto held = std::async(std::launch::async, [&] {
    return lab.in_remote(lab.probe() + " --src 10.99.0.80 hold 10.99.0.1 7070 100 150");
  });
  REQUIRE(lab.remote_tcp_ok("10.99.0.80", 7070));  // reachable without seatlockd
  lab.start_daemon();

  CHECK(lab.remote_tcp_ok("10.99.0.2", 7070));         // allowed source and port
  CHECK_FALSE(lab.remote_tcp_ok("10.99.0.80", 7070));  // other source
  CHECK_FALSE(lab.remote_tcp_ok("10.99.0.2", 7071));   // allowed source, other port
  CHECK_FALSE(lab.remote_udp_ok("10.99.0.2", 7070));   // the entry is tcp only
  // ...stops getting answers once the rules are in force.
  CmdResult hold = held.get();
  INFO(hold.out);
  CHECK(hold.status == 1);
  CHECK(hold.out.find("ok 0") != std::string::npos);
  CHECK(lab.wait_event(
      "net.inbound_denied",
      [](const json& e) {
        const json& d = e["details"];
        return d["saddr"] == "10.99.0.80" && d["dport"] == 7070 && d["proto"] == "tcp" &&
               e["outcome"] == "blocked" && e["policy"]["rule"] == "network.inbound";
      },
      4000));
  // The seat's own connections still get their replies.
  CHECK(lab.tcp_ok(kUserA, "10.99.0.2", 8080));
}

TEST_CASE("with the shipped default IT's SSH reaches the seat from a private range, nothing else",
          "[net][netns]") {
  NetLab lab;
  lab.serve_in_seat({22, 7070});
  std::filesystem::copy_file(std::string(SEATLOCK_SOURCE_DIR) + "/policy/default/00-default.json",
                             lab.policy_dir() + "/00-default.json");
  lab.start_daemon();
  CHECK(lab.remote_tcp_ok("10.99.0.2", 22));
  CHECK(lab.remote_tcp_ok("10.99.0.80", 22));
  CHECK_FALSE(lab.remote_tcp_ok("10.99.0.2", 7070));
  CHECK_FALSE(lab.remote_udp_ok("10.99.0.2", 22));
}

TEST_CASE("udp 68->67 reaches the broadcast address and the lease's server, no other host",
          "[net][netns]") {
  NetLab lab;
  lab.serve_in_remote({67});
  const std::string leases = lab.dir() + "/leases";
  std::filesystem::create_directories(leases + "/var/lib/dhcp");
  std::ofstream(leases + "/var/lib/dhcp/dhclient.sl0.leases")
      << "lease {\n  interface \"sl0\";\n  fixed-address 10.99.0.1;\n"
         "  option dhcp-server-identifier 10.99.0.53;\n}\n";
  lab.write_policy("50-lab.json", inbound_policy());
  const std::string dhcp = lab.probe() + " --src 10.99.0.1 --sport 68 udp ";
  REQUIRE(lab.in_seat(dhcp + "10.99.0.2 67 700").status == 0);  // open before seatlockd
  lab.start_daemon({"--lease-root", leases});

  CHECK(lab.in_seat(dhcp + "255.255.255.255 67 700").status == 0);  // DHCPDISCOVER/REQUEST
  CHECK(lab.in_seat(dhcp + "10.99.0.53 67 700").status == 0);       // renewal to the server
  CHECK(lab.in_seat(dhcp + "10.99.0.2 67 700").status != 0);        // any other host
  CHECK(lab.net_status()["rules"]["dhcp_servers"] == json::array({"10.99.0.53"}));
}

TEST_CASE("audit mode drops no inbound, forwarded or port-67 traffic but reports it",
          "[net][netns]") {
  NetLab lab;
  lab.add_container();
  lab.serve_in_seat({7070});
  lab.serve_in_remote({67});
  lab.write_policy("50-lab.json", inbound_policy({{"mode", "audit"}}));
  lab.start_daemon();
  CHECK(ctr_tcp_ok(lab, "10.99.0.80", 443));
  CHECK(lab.remote_tcp_ok("10.99.0.80", 7070));
  CHECK(lab.in_seat(lab.probe() + " --src 10.99.0.1 --sport 68 udp 10.99.0.2 67 700").status == 0);
  std::string tables = must("ip netns exec " + lab.seat() + " nft list ruleset");
  CHECK(tables.find("drop") == std::string::npos);
  CHECK(lab.wait_event(
      "net.inbound_denied",
      [](const json& e) {
        return e["details"]["saddr"] == "10.99.0.80" && e["outcome"] == "reported" &&
               e["details"]["reason"] == "audit";
      },
      4000));
  CHECK(lab.wait_event(
      "net.forward_denied",
      [](const json& e) {
        return e["details"]["daddr"] == "10.99.0.80" && e["outcome"] == "reported";
      },
      4000));
}
