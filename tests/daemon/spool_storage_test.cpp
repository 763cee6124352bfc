// seatlockd and its own storage: a spool that is not a database, a spool whose schema is not
// ours, a disk that fills up under it (a tmpfs in a private mount namespace), and the shipped
// binary carrying no test-only control command.
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "os/control/control_server.hpp"
#include "os/spool/spool.hpp"
#include "os/spool/sqlite.hpp"
#include "support/events.hpp"
#include "support/process.hpp"

using namespace seatlock::test;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Seat {
  std::string dir = make_temp_dir("spool-storage");
  std::string policy_dir = dir + "/policy.d";
  std::string state_dir = dir + "/state";
  std::string socket = dir + "/control.sock";
  std::string binary = "agent/daemon/seatlockd";
  std::string components = "none";
  std::unique_ptr<Child> child;

  Seat() {
    fs::create_directories(policy_dir);
    fs::create_directories(state_dir);
    write_file(policy_dir + "/00-base.json", R"({"firmware": {"mode": "audit"}})");
  }
  ~Seat() {
    child.reset();
    umount2(state_dir.c_str(), MNT_DETACH);  // when a test mounted a tmpfs there
    fs::remove_all(dir);
  }
  void start() {
    fs::remove(socket);
    child = std::make_unique<Child>(
        std::vector<std::string>{binary_path(binary), "--policy-dir", policy_dir, "--state-dir",
                                 state_dir, "--control-socket", socket, "--components", components,
                                 "--seat-id", "seat-storage"},
        dir + "/seatlockd.log");
    REQUIRE(wait_until([&] { return ctl({"status"}).exit_code == 0; }, 20'000));
  }
  RunResult ctl(std::vector<std::string> args) {
    args.insert(args.begin(), {binary_path("agent/cli/seatlockctl"), "--socket", socket});
    return run_command(args);
  }
  json status() { return json::parse(ctl({"--json", "status"}).out); }
  std::string log() { return read_file(dir + "/seatlockd.log"); }
};

std::vector<fs::path> set_aside_files(const std::string& state_dir) {
  std::vector<fs::path> out;
  for (const auto& e : fs::directory_iterator(state_dir))
    if (e.path().filename().string().rfind("spool.db.corrupt-", 0) == 0 &&
        e.path().string().find("-wal") == std::string::npos &&
        e.path().string().find("-shm") == std::string::npos)
      out.push_back(e.path());
  return out;
}

}  // namespace

TEST_CASE("seatlockd starts on a spool.db full of garbage, keeps it aside and says so",
          "[daemon][spool]") {
  Seat s;
  std::string garbage(64 * 1024, '\0');
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<char>(i * 131 + 7);
  write_file(s.state_dir + "/spool.db", garbage);

  s.start();
  INFO(s.log());
  CHECK(s.child->running());
  auto aside = set_aside_files(s.state_dir);
  REQUIRE(aside.size() == 1);
  CHECK(read_file(aside[0].string()) == garbage);  // kept byte for byte, for forensics

  auto resets = events_of_kind(s.state_dir, "spool.reset");
  REQUIRE(resets.size() == 1);
  CHECK(resets[0]["details"]["aside"] == aside[0].string());
  CHECK(resets[0]["details"]["chain"] == "restarted");
  CHECK(resets[0]["severity"] == "high");
  CHECK(resets[0]["seat"]["id"] == "seat-storage");
  // The old head is unknown: the fresh chain starts above any seq the seat can have used.
  CHECK(resets[0]["seq"].get<std::uint64_t>() > 1'000'000'000'000ULL);
  auto all = all_events(s.state_dir);
  REQUIRE(all.size() >= 2);
  CHECK(all[0]["kind"] == "spool.reset");
  CHECK(all[1]["kind"] == "agent.started");
}

TEST_CASE("a spool whose schema is not seatlock's is set aside and the chain continues",
          "[daemon][spool]") {
  Seat s;
  s.start();
  REQUIRE(wait_until([&] { return !events_of_kind(s.state_dir, "policy.applied").empty(); }));
  s.child->stop();
  seatlock::SpoolStats before = seatlock::SpoolReader(s.state_dir + "/spool.db").stats();
  REQUIRE(before.head_seq >= 3);
  {
    seatlock::sql::Db db(s.state_dir + "/spool.db", seatlock::sql::Db::Open::ReadWrite);
    db.exec("ALTER TABLE events RENAME COLUMN body TO payload");
  }

  s.start();
  INFO(s.log());
  REQUIRE(set_aside_files(s.state_dir).size() == 1);
  auto all = all_events(s.state_dir);
  REQUIRE(!all.empty());
  CHECK(all[0]["kind"] == "spool.reset");
  CHECK(all[0]["details"]["chain"] == "continued");
  CHECK(all[0]["details"]["previous_head_seq"] == before.head_seq);
  CHECK(all[0]["seq"] == before.head_seq + 1);
  CHECK(all[0]["prev"] == before.head_hash);
}

TEST_CASE("the shipped seatlockd has no events.inject, even with SEATLOCK_TEST_EVENTS=1",
          "[daemon]") {
  Seat s;
  s.components = "delivery";  // where the old daemon registered it
  setenv("SEATLOCK_TEST_EVENTS", "1", 1);
  s.start();
  unsetenv("SEATLOCK_TEST_EVENTS");
  std::uint64_t head = seatlock::SpoolReader(s.state_dir + "/spool.db").stats().head_seq;
  CHECK_THROWS_WITH(seatlock::control_call(s.socket, "events.inject", {{"count", 5}}),
                    Catch::Contains("unknown command 'events.inject'"));
  CHECK(seatlock::SpoolReader(s.state_dir + "/spool.db").stats().head_seq == head);
  std::ifstream bin(binary_path("agent/daemon/seatlockd"), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(bin)), std::istreambuf_iterator<char>());
  CHECK(bytes.find("events.inject") == std::string::npos);
  CHECK(bytes.find("SEATLOCK_TEST_EVENTS") == std::string::npos);
}
