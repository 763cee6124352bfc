// Deciding once per connection (docs/network.md "Established connections, close and expiry"):
// a live flow is accepted by its conntrack mark's generation until a change takes something
// away, then checked again at its next packet. Needs root; namespaces only (netns_lab.hpp).
#include <catch2/catch.hpp>
#include <future>
#include <regex>
#include <set>
#include <string>

#include "core/util/time.hpp"
#include "netns_lab.hpp"
#include "os/base/clock.hpp"
#include "support/process_wait.hpp"

using namespace seatlock;
using namespace seatlock::nettest;
using nlohmann::json;
using seatlock::test::wait_until;

namespace {

// The generation the `decided` chains of both tables compare with ("0x00010000"): both must
// say the same, else one table would let stale flows pass; and each base chain jumps to it.
std::string generation(const NetLab& lab) {
  std::set<std::string> seen;
  for (const char* table : {"seatlock", "seatlock_fallback"}) {
    CmdResult r = lab.in_seat(std::string("nft list chain inet ") + table + " decided");
    REQUIRE(r.status == 0);
    std::smatch m;
    REQUIRE(std::regex_search(r.out, m, std::regex("ct mark & 0xdfffffff == (0x[0-9a-f]{8})")));
    seen.insert(m[1].str());
    for (const char* chain : {"output", "input", "forward"})
      CHECK(lab.in_seat(std::string("nft list chain inet ") + table + " " + chain)
                .out.find("jump decided") != std::string::npos);
  }
  REQUIRE(seen.size() == 1);
  return *seen.begin();
}

// `probe hold` as `user` in the background, its progress in `log`.
std::future<CmdResult> hold(const NetLab& lab, const std::string& to, int count,
                            const std::string& log) {
  return std::async(std::launch::async, [&lab, to, count, log] {
    return lab.in_seat(lab.probe() + " hold " + to + " 100 " + std::to_string(count) + " >" + log,
                       kUserA);
  });
}

// Packets the owned table accepted by their connection's generation (its early rule).
std::int64_t decided_packets(const NetLab& lab) {
  CmdResult r = lab.in_seat("nft -j list counter inet seatlock connection_decided");
  REQUIRE(r.status == 0);
  const json listed = json::parse(r.out);
  for (const auto& item : listed["nftables"])
    if (item.contains("counter")) return item["counter"]["packets"].get<std::int64_t>();
  FAIL("no counter in: " << r.out);
  return -1;
}

bool log_has(const std::string& log, const std::string& line) {
  return sh("grep -qx '" + line + "' " + log).status == 0;
}

}  // namespace

TEST_CASE(
    "a live allowed connection is decided once and keeps flowing through a change that "
    "only adds",
    "[net][netns]") {
  NetLab lab;
  lab.write_policy("50-lab.json", lab_policy());
  lab.start_daemon();
  const std::string gen = generation(lab);
  REQUIRE_FALSE(gen.empty());
  const std::string log = lab.dir() + "/hold.log";
  auto held = hold(lab, "10.99.0.2 8080", 40, log);
  REQUIRE(wait_until([&] { return log_has(log, "ok 2"); }, 10'000));
  const std::int64_t decided = decided_packets(lab);

  // An exception for another user and destination only adds: live flows are not re-checked.
  CmdResult r = lab.ctl(std::string("net allow --user ") + kUserB +
                        " --to 10.99.0.80:443 --for 2h --ticket IT-ADDS");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  CHECK(generation(lab) == gen);
  CHECK(lab.daemon_log().find("in place") != std::string::npos);

  CmdResult done = held.get();
  done.out += sh("cat " + log).out;
  INFO(done.out);
  CHECK(done.status == 0);
  CHECK(log_has(log, "ok 39"));
  // Each later round trip's packet went by the connection's mark, not the allowlists; the
  // counter is the one `seatlockctl net status` shows.
  CHECK(decided_packets(lab) >= decided + 30);
  CHECK(lab.ctl("net status").out.find("connection_decided") != std::string::npos);
}

TEST_CASE("a connection allowed by an entry that is then removed stops at its next packet",
          "[net][netns]") {
  NetLab lab;
  const json both = json::array({{{"to", "10.99.0.2/32"}, {"ports", {8080}}, {"proto", "tcp"}},
                                 {{"to", "10.99.0.80/32"}, {"ports", {443}}, {"proto", "tcp"}}});
  lab.write_policy("50-lab.json", lab_policy({{"allow", both}}));
  lab.start_daemon();
  const std::string gen = generation(lab);
  const std::string log = lab.dir() + "/hold.log";
  auto held = hold(lab, "10.99.0.80 443", 200, log);
  REQUIRE(wait_until([&] { return log_has(log, "ok 2"); }, 10'000));

  lab.write_policy("50-lab.json", lab_policy());  // the 10.99.0.80:443 entry is gone
  CmdResult r = lab.ctl("reload");
  INFO(r.out);
  REQUIRE(r.status == 0);
  const UnixMillis reloaded = now_millis();
  CmdResult done = held.get();
  done.out += sh("cat " + log).out;
  INFO(done.out);
  CHECK(done.status == 1);                // the established connection stopped passing
  CHECK(now_millis() - reloaded < 2500);  // at its next round trip (1 s timeout)
  CHECK(generation(lab) != gen);          // a new generation, in place
  CHECK(lab.daemon_log().find("in place") != std::string::npos);
  CHECK_FALSE(lab.tcp_ok(kUserA, "10.99.0.80", 443));
  CHECK(lab.tcp_ok(kUserA, "10.99.0.2", 8080));
}

TEST_CASE("a revoked exception cuts its user's live connection with an in-place update",
          "[net][netns]") {
  NetLab lab;
  const json exception = json::array(
      {{{"users", {kUserA}},
        {"allow", json::array({{{"to", "10.99.0.80/32"}, {"ports", {443}}, {"proto", "tcp"}}})},
        {"until", format_rfc3339_ms(now_millis() + 3'600'000)},
        {"ticket", "T-REVOKE"}}});
  lab.write_policy("50-lab.json", lab_policy({{"exceptions", exception}}));
  lab.start_daemon();
  const std::string log = lab.dir() + "/hold.log";
  auto held = hold(lab, "10.99.0.80 443", 200, log);
  REQUIRE(wait_until([&] { return log_has(log, "ok 2"); }, 10'000));

  lab.write_policy("50-lab.json", lab_policy());  // revoked
  CmdResult r = lab.ctl("reload");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CmdResult done = held.get();
  done.out += sh("cat " + log).out;
  INFO(done.out);
  CHECK(done.status == 1);
  // The kernel deleted the exception's element in place (nft 1.0.6 refused the single-value
  // form, and every revocation replaced both tables and reset their counters).
  const std::string daemon = lab.daemon_log();
  INFO(daemon);
  CHECK(daemon.find("refused") == std::string::npos);
  CHECK(daemon.find("in place") != std::string::npos);
  CHECK_FALSE(lab.tcp_ok(kUserA, "10.99.0.80", 443));
}
