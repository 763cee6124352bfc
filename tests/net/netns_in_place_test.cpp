// Policy changes update the tables' set elements in place: the tables, and so their counters,
// survive a new exception, an expiry and close/open, and each change takes effect at once.
// Needs root; namespaces only (netns_lab.hpp).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "core/util/time.hpp"
#include "netns_lab.hpp"
#include "os/base/clock.hpp"
#include "support/process_wait.hpp"

using namespace seatlock;
using namespace seatlock::nettest;
using nlohmann::json;
using seatlock::test::wait_until;

namespace {

// Packets the owned table's "denied" counter has seen.
std::int64_t denied_packets(const NetLab& lab) {
  CmdResult r = lab.in_seat("nft -j list counter inet seatlock denied");
  REQUIRE(r.status == 0);
  const json listed = json::parse(r.out);
  for (const auto& item : listed["nftables"])
    if (item.contains("counter")) return item["counter"]["packets"].get<std::int64_t>();
  FAIL("no counter in: " << r.out);
  return -1;
}

}  // namespace

TEST_CASE("an added exception and its expiry and close and open keep the tables' counters",
          "[net][netns]") {
  NetLab lab;
  const UnixMillis until = now_millis() + 6000;
  json network = {
      {"mode", "enforce"},
      {"allow", json::array({{{"to", "10.99.0.2/32"}, {"ports", {8080}}, {"proto", "tcp"}}})},
      {"dns", {"10.99.0.53"}},
      {"addresses", {{"sl0", "10.99.0.1/24"}}},
      {"exceptions",
       json::array({{{"users", {kUserA}},
                     {"allow",
                      json::array({{{"to", "10.99.0.80/32"}, {"ports", {443}}, {"proto", "tcp"}}})},
                     {"until", format_rfc3339_ms(until)},
                     {"ticket", "T-SHORT"}}})}};
  lab.write_policy("50-lab.json", {{"network", network}});
  lab.start_daemon();

  // Five denied connection attempts: the counter the later checks must still see.
  for (int i = 0; i < 5; ++i) CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  const std::int64_t counted = denied_packets(lab);
  REQUIRE(counted >= 5);

  // A new exception (seatlockctl net allow reloads the policy before it returns).
  CmdResult r = lab.ctl(std::string("net allow --user ") + kUserB +
                        " --to 10.99.0.80:443 --for 2h --ticket IT-IN-PLACE");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  CHECK(denied_packets(lab) >= counted);

  // The short exception expires: user a loses access at its `until`, the counter stays.
  CHECK(lab.tcp_ok(kUserA, "10.99.0.80", 443));
  const std::int64_t before_expiry = denied_packets(lab);
  CHECK(wait_until([&] { return !lab.tcp_ok(kUserA, "10.99.0.80", 443); }, 10'000));
  CHECK(lab.wait_event(
      "net.exception_expired", [](const json& e) { return e["details"]["ticket"] == "T-SHORT"; },
      3000));
  CHECK(denied_packets(lab) >= before_expiry + 1);  // at least the refused attempt above
  CHECK(lab.tcp_ok(kUserB, "10.99.0.80", 443));     // the other exception is still in force

  // Close and open: exceptions and the allow entry are suspended, then back.
  REQUIRE(lab.ctl("net close").status == 0);
  CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
  const std::int64_t while_closed = denied_packets(lab);
  CHECK(while_closed >= counted + 2);
  REQUIRE(lab.ctl("net open").status == 0);
  CHECK(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  CHECK(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
  CHECK(denied_packets(lab) >= while_closed);
  CHECK(lab.daemon_log().find("in place") != std::string::npos);
}

namespace {

// The "ruleset applied" lines of the daemon's log, oldest first.
std::vector<std::string> applied_lines(const NetLab& lab) {
  std::vector<std::string> out;
  std::istringstream log(lab.daemon_log());
  for (std::string line; std::getline(log, line);)
    if (line.find("ruleset applied") != std::string::npos) out.push_back(line);
  return out;
}

}  // namespace

// Regression (issue 18): closing took 10,000 elements out of the allow sets, more than an
// in-place update may change, so both tables were replaced and their counters started again
// from zero.
TEST_CASE("net close and open at 10,000 allow entries are in place and keep the counters",
          "[net][netns]") {
  NetLab lab;
  json allow = json::array(
      {{{"to", "10.99.0.2/32"}, {"ports", {8080}}, {"proto", "tcp"}},
       {{"to", "10.99.0.80/32"}, {"ports", {443}}, {"proto", "tcp"}, {"essential", true}}});
  // Filler that does not merge: adjacent /24s alternate between two ports.
  for (int i = 0; i < 10'000; ++i)
    allow.push_back(
        {{"to", "100." + std::to_string(64 + i / 256) + "." + std::to_string(i % 256) + ".0/24"},
         {"ports", {22 + 2 * (i % 2)}},
         {"proto", "tcp"}});
  json network = {{"mode", "enforce"},
                  {"allow", allow},
                  {"dns", {"10.99.0.53"}},
                  {"addresses", {{"sl0", "10.99.0.1/24"}}}};
  lab.write_policy("50-lab.json", {{"network", network}});
  lab.start_daemon();

  for (int i = 0; i < 3; ++i) CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.80", 8443));
  const std::int64_t counted = denied_packets(lab);
  REQUIRE(counted >= 3);

  REQUIRE(lab.ctl("net close").status == 0);
  CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
  CHECK(lab.tcp_ok(kUserB, "10.99.0.80", 443));  // essential
  const std::int64_t while_closed = denied_packets(lab);
  CHECK(while_closed >= counted + 1);  // a replaced table would count from zero
  auto lines = applied_lines(lab);
  REQUIRE_FALSE(lines.empty());
  INFO(lines.back());
  CHECK(lines.back().find(", closed, ") != std::string::npos);
  CHECK(lines.back().find(", in place, ") != std::string::npos);

  REQUIRE(lab.ctl("net open").status == 0);
  CHECK(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
  CHECK(denied_packets(lab) >= while_closed);
  lines = applied_lines(lab);
  INFO(lines.back());
  CHECK(lines.back().find(", closed, ") == std::string::npos);
  CHECK(lines.back().find(", in place, ") != std::string::npos);
}

// Regression (issue 18): a seat's DHCP client writes its lease just after seatlockd's start at
// boot; the new lease server replaced both tables (their counters started again from zero).
TEST_CASE("a new DHCP lease server is let through in place and the counters stay", "[net][netns]") {
  NetLab lab;
  lab.serve_in_remote({67});
  const std::string leases = lab.dir() + "/leases";
  std::filesystem::create_directories(leases + "/var/lib/dhcp");
  const auto write_lease = [&](const std::string& server) {
    std::ofstream(leases + "/var/lib/dhcp/dhclient.sl0.leases")
        << "lease {\n  interface \"sl0\";\n  fixed-address 10.99.0.1;\n"
           "  option dhcp-server-identifier "
        << server << ";\n}\n";
  };
  write_lease("10.99.0.53");
  lab.write_policy(
      "50-lab.json",
      {{"network",
        {{"mode", "enforce"},
         {"allow",
          json::array({{{"to", "10.99.0.2/32"}, {"ports", {8080}}, {"proto", "tcp"}}})}}}});
  lab.start_daemon({"--lease-root", leases});
  const std::string renew = lab.probe() + " --src 10.99.0.1 --sport 68 udp ";
  CHECK(lab.in_seat(renew + "10.99.0.53 67 700").status == 0);
  CHECK(lab.in_seat(renew + "10.99.0.54 67 700").status != 0);
  for (int i = 0; i < 3; ++i) CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  const std::int64_t counted = denied_packets(lab);
  REQUIRE(counted >= 3);

  // The client moves to another server and configures an address: seatlockd reads the lease.
  write_lease("10.99.0.54");
  must("ip -n " + lab.seat() + " addr add 10.99.0.9/24 dev sl0");
  CHECK(wait_until(
      [&] { return lab.net_status()["rules"]["dhcp_servers"] == json::array({"10.99.0.54"}); },
      5000));
  CHECK(lab.in_seat(renew + "10.99.0.54 67 700").status == 0);
  CHECK(lab.in_seat(renew + "10.99.0.53 67 700").status != 0);
  CHECK(denied_packets(lab) >= counted);
  const auto lines = applied_lines(lab);
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back().find("DHCP lease changed") != std::string::npos);
  CHECK(lines.back().find(", in place, ") != std::string::npos);
}
