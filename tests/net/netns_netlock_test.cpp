// The boot oneshot (systemd/seatlock-netlock.service) in a network namespace: the unit's own
// ExecStart, with the build's binaries and the lab's directories, must leave the seat behind a
// fail-closed table whatever state it finds. Needs root.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "netns_lab.hpp"

using namespace seatlock::nettest;
using nlohmann::json;

namespace {

// The lab's policy without a resolver: its one base element is the allow entry on 8080.
json netlock_policy() {
  json policy = lab_policy();
  policy["network"].erase("dns");
  return policy;
}

// ExecStart= of the packaged unit, its binaries mapped to this build's, plus the lab's dirs.
std::string unit_exec_start(const NetLab& lab) {
  std::ifstream in(std::string(SEATLOCK_SOURCE_DIR) + "/systemd/seatlock-netlock.service");
  std::string line, cmd;
  while (std::getline(in, line))
    if (line.rfind("ExecStart=", 0) == 0) cmd = line.substr(10);
  REQUIRE_FALSE(cmd.empty());
  const std::string bin = SEATLOCK_BINARY_DIR;
  cmd =
      std::regex_replace(cmd, std::regex("^/usr/sbin/seatlockctl"), bin + "/agent/cli/seatlockctl");
  cmd = std::regex_replace(cmd, std::regex("^/usr/libexec/seatlock/seatlock-netlock"),
                           bin + "/agent/netlock/seatlock-netlock");
  return cmd + " --policy-dir " + lab.policy_dir() + " --state-dir " + lab.state_dir();
}

std::string netlock(const NetLab& lab) {
  return lab.with_dirs("agent/netlock/seatlock-netlock");
}

void write_text(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// The lab's seat before any table: open to everything.
void require_open(const NetLab& lab) {
  REQUIRE(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  REQUIRE(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
}

}  // namespace

// Found on issue 18's boot work: `seatlockctl net load-fallback` ran a corrupt netlock.nft "as
// written", nft refused it, the unit failed and the seat came up with no egress table at all.
TEST_CASE("the boot unit leaves the seat closed when netlock.nft is corrupt and the policy too",
          "[net][netns]") {
  NetLab lab;
  require_open(lab);
  write_text(lab.state_dir() + "/netlock.nft",
             "table inet seatlock_fallback {\n  chain output {\n");
  write_text(lab.policy_dir() + "/50-lab.json", "{ \"network\": ");
  CmdResult r = lab.in_seat(unit_exec_start(lab));
  INFO(r.out);
  CHECK(r.status != 0);  // the unit shows failed: IT sees it
  CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
  CHECK_FALSE(lab.tcp_ok("", "10.99.0.2", 8080));
  CHECK(lab.in_seat("nft list table inet seatlock_fallback").status == 0);
}

TEST_CASE("seatlock-netlock loads the cached fallback file without seatlockctl", "[net][netns]") {
  NetLab lab;
  lab.write_policy("50-lab.json", netlock_policy());
  require_open(lab);
  // The file as seatlockd and seatlockctl write it.
  REQUIRE(lab.ctl("net load-fallback").status == 0);
  REQUIRE(std::filesystem::exists(lab.state_dir() + "/netlock.nft"));
  REQUIRE(lab.in_seat("nft delete table inet seatlock_fallback").status == 0);
  require_open(lab);

  CmdResult r = lab.in_seat(netlock(lab) + " --seatlockctl /nonexistent/seatlockctl");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("state file (recompiled): enforce, 1 base") != std::string::npos);
  CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  CHECK(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
}

TEST_CASE("seatlock-netlock compiles the policy directory when netlock.nft is corrupt",
          "[net][netns]") {
  NetLab lab;
  lab.write_policy("50-lab.json", netlock_policy());
  require_open(lab);
  write_text(lab.state_dir() + "/netlock.nft", "table inet seatlock_fallback { garbage }\n");
  CmdResult r = lab.in_seat(netlock(lab) + " --seatlockctl " + SEATLOCK_BINARY_DIR +
                            "/agent/cli/seatlockctl");
  INFO(r.out);
  REQUIRE(r.status == 0);
  CHECK(r.out.find("netlock.nft not loaded") != std::string::npos);
  CHECK(r.out.find("loaded from the policy directory instead") != std::string::npos);
  CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.80", 443));
  CHECK(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
  // seatlockctl rewrote the file: the next boot takes the fast path again.
  r = lab.in_seat(netlock(lab) + " --seatlockctl /nonexistent/seatlockctl");
  INFO(r.out);
  CHECK(r.status == 0);
  CHECK(r.out.find("state file (recompiled)") != std::string::npos);
}

TEST_CASE("seatlock-netlock with no file and no seatlockctl loads the lockdown table",
          "[net][netns]") {
  NetLab lab;
  lab.write_policy("50-lab.json", netlock_policy());
  require_open(lab);
  CmdResult r = lab.in_seat(netlock(lab) + " --seatlockctl /nonexistent/seatlockctl");
  INFO(r.out);
  CHECK(r.status == 1);
  CHECK(r.out.find("cannot run /nonexistent/seatlockctl") != std::string::npos);
  CHECK(r.out.find("lockdown table") != std::string::npos);
  CHECK_FALSE(lab.tcp_ok(kUserB, "10.99.0.2", 8080));
  CHECK(lab.in_seat("nft list table inet seatlock_fallback").status == 0);
  // Loopback (matched by its index) still works: local services, the seat's own address.
  lab.serve_in_seat({7070});
  CHECK(lab.tcp_ok(kUserB, "127.0.0.1", 7070));
  CHECK(lab.tcp_ok(kUserB, "10.99.0.1", 7070));
}
