// seatlockd with its state directory on a small tmpfs that fills up (mounted in a private mount
// namespace of this test process, inherited by the daemon and seatlockctl; nothing of the host
// is mounted over). Uses seatlockd-test for events.inject, to overflow the in-memory backlog.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "os/control/control_server.hpp"
#include "support/events.hpp"
#include "support/process.hpp"

using namespace seatlock::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// A private mount namespace with a tmpfs of `size` on `dir`. Every child inherits it.
void mount_private_tmpfs(const std::string& dir, const std::string& size) {
  REQUIRE(unshare(CLONE_NEWNS) == 0);
  REQUIRE(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
  REQUIRE(mount("tmpfs", dir.c_str(), "tmpfs", 0, ("size=" + size + ",mode=0700").c_str()) == 0);
}

// Writes `path` until the file system refuses (ENOSPC).
void fill(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  std::string chunk(4096, 'x');
  while (write(fd, chunk.data(), chunk.size()) > 0) {
  }
  int err = errno;
  close(fd);
  REQUIRE(err == ENOSPC);
}

struct FullSeat {
  std::string dir = make_temp_dir("disk-full");
  std::string policy_dir = dir + "/policy.d";
  std::string state_dir = dir + "/state";
  std::string socket = dir + "/control.sock";
  std::unique_ptr<Child> child;

  FullSeat() {
    fs::create_directories(policy_dir);
    fs::create_directories(state_dir);
    mount_private_tmpfs(state_dir, "24m");
    write_file(policy_dir + "/00-base.json",
               R"({"firmware": {"mode": "audit"}, "report": {"heartbeat": "1s"}})");
  }
  ~FullSeat() {
    child.reset();
    umount2(state_dir.c_str(), MNT_DETACH);
    fs::remove_all(dir);
  }
  void start() {
    fs::remove(socket);
    // Trees from before seatlockd-test enabled events.inject by environment (only used when
    // this test is run against such a tree, to show the old behaviour).
    std::string daemon = binary_path("agent/daemon/seatlockd-test");
    if (!fs::exists(daemon)) {
      daemon = binary_path("agent/daemon/seatlockd");
      setenv("SEATLOCK_TEST_EVENTS", "1", 1);
    }
    child = std::make_unique<Child>(
        std::vector<std::string>{daemon, "--policy-dir", policy_dir, "--state-dir", state_dir,
                                 "--control-socket", socket, "--components", "delivery",
                                 "--seat-id", "seat-full"},
        dir + "/seatlockd.log");
    REQUIRE(wait_until([&] { return ctl({"status"}).exit_code == 0; }, 20'000));
  }
  RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {binary_path("agent/cli/seatlockctl"), "--socket", socket});
    return run_command(args);
  }
  json status() {
    RunResult r = ctl({"--json", "status"});
    return r.exit_code == 0 ? json::parse(r.out) : json::object();
  }
  json inject(std::uint64_t count, const std::string& kind, const std::string& severity) {
    return seatlock::control_call(
        socket, "events.inject",
        {{"count", count}, {"kind", kind}, {"severity", severity}, {"batch", 100}}, 120'000);
  }
  // Records events until the daemon says its spool cannot store any more (SQLite first uses up
  // what it still had allocated). Errors are the old behaviour; the loop does not stop on them.
  void inject_until_degraded() {
    for (int i = 0; i < 50 && storage_state() != "degraded"; ++i) {
      try {
        inject(200, "test.prelude", "info");
      } catch (const std::exception& e) {
        WARN("events.inject: " << e.what());
      }
    }
  }
  std::string storage_state() {
    return status().value("events", json::object()).value("state", "");
  }
};

}  // namespace

TEST_CASE(
    "a full disk: seatlockd keeps running and applying policy, stores the backlog in order "
    "once space returns, and records the loss as a seq gap",
    "[daemon][spool][root]") {
  FullSeat s;
  s.start();
  INFO(read_file(s.dir + "/seatlockd.log"));
  const int pid = s.child->pid();
  REQUIRE(wait_until([&] { return !events_of_kind(s.state_dir, "policy.applied").empty(); }));

  fill(s.state_dir + "/filler");
  s.inject_until_degraded();
  // While the disk is full: a policy change that must still be put in force, violations, a
  // flood of routine events larger than the backlog, heartbeats.
  write_file(s.policy_dir + "/50-more.json", R"({"usb": {"mode": "audit"}})");
  REQUIRE(wait_until([&] {
    return s.status().value("policy", json::object()).value("sources", json::array()).size() == 2;
  }));
  REQUIRE(s.storage_state() == "degraded");
  s.inject(40, "usb.blocked", "high");
  s.inject(10'500, "test.flood", "info");
  // Another change after the flood: its policy.applied is among the newest, so it is kept (the
  // first one, older than the flood, was a routine event and may have been dropped).
  write_file(s.policy_dir + "/60-late.json", R"({"usb": {"mode": "enforce"}})");
  REQUIRE(wait_until([&] {
    return s.status().value("policy", json::object()).value("sources", json::array()).size() == 3;
  }));
  json st = s.status();
  CHECK(st["events"]["state"] == "degraded");
  CHECK(st["events"]["lost"].get<std::uint64_t>() > 0);
  CHECK(st["events"]["backlog_events"].get<std::uint64_t>() <= 10'000);
  CHECK(s.child->running());
  const std::string new_policy = st["policy"]["sha256"];

  fs::remove(s.state_dir + "/filler");
  REQUIRE(wait_until([&] { return s.storage_state() == "ok"; }, 20'000));
  CHECK(s.child->pid() == pid);
  CHECK(s.child->running());

  auto all = all_events(s.state_dir);
  std::set<std::uint64_t> seqs;
  for (const auto& e : all) seqs.insert(e["seq"].get<std::uint64_t>());
  auto recovered = events_of_kind(s.state_dir, "spool.recovered");
  REQUIRE(recovered.size() == 1);
  const json& d = recovered[0]["details"];
  auto degraded = events_of_kind(s.state_dir, "spool.degraded");
  REQUIRE(degraded.size() == 1);
  CHECK(degraded[0]["details"]["error"].get<std::string>().find("full") != std::string::npos);
  CHECK(degraded[0]["seq"] < recovered[0]["seq"]);

  // Every lost event left exactly one missing seq, and the record lists exactly those.
  std::uint64_t listed = 0;
  std::set<std::uint64_t> missing;
  for (std::uint64_t q = *seqs.begin(); q <= *seqs.rbegin(); ++q)
    if (!seqs.count(q)) missing.insert(q);
  for (const auto& r : d["dropped"]) {
    for (std::uint64_t q = r["first"]; q <= r["last"].get<std::uint64_t>(); ++q) {
      CHECK(missing.count(q) == 1);
      ++listed;
    }
  }
  CHECK(listed == d["events"].get<std::uint64_t>());
  CHECK(missing.size() == listed);
  CHECK(listed > 0);
  CHECK(d["violations"] == 0);  // routine events went first
  CHECK(recovered[0]["severity"] == "medium");

  // Nothing else lost: every violation arrived, in order, and the flood's survivors in order.
  CHECK(events_of_kind(s.state_dir, "usb.blocked").size() == 40);
  std::int64_t last_n = -1;
  bool ordered = true;
  for (const auto& e : events_of_kind(s.state_dir, "test.flood")) {
    std::int64_t n = e["details"]["n"];
    ordered = ordered && n > last_n;
    last_n = n;
  }
  CHECK(ordered);
  CHECK(last_n == 10'499);  // the newest are kept; the oldest routine events were dropped
  bool applied = false;
  for (const auto& e : events_of_kind(s.state_dir, "policy.applied"))
    applied = applied || e["details"]["sha256"] == new_policy;
  CHECK(applied);
  CHECK(!events_of_kind(s.state_dir, "agent.heartbeat").empty());
}

TEST_CASE("seatlockd starts again on a full disk", "[daemon][spool][root]") {
  FullSeat s;
  s.start();
  REQUIRE(wait_until([&] { return !events_of_kind(s.state_dir, "policy.applied").empty(); }));
  fill(s.state_dir + "/filler");
  s.inject_until_degraded();
  CHECK(s.storage_state() == "degraded");
  s.child->stop(SIGKILL);

  s.start();  // REQUIREs that it answers
  INFO(read_file(s.dir + "/seatlockd.log"));
  CHECK(s.child->running());
  CHECK(s.status()["policy"]["sha256"].get<std::string>().size() == 64);
  fs::remove(s.state_dir + "/filler");
  REQUIRE(wait_until([&] { return s.storage_state() == "ok"; }, 20'000));
  CHECK(events_of_kind(s.state_dir, "spool.recovered").size() == 1);
}
