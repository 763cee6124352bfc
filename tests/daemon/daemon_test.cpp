// seatlockd as a real process: start-up, status over the control socket, reloads, rejection of a
// bad policy, root-only control, clean stop.
#include <pwd.h>
#include <signal.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "support/events.hpp"
#include "support/process.hpp"

using namespace seatlock::test;
using nlohmann::json;

namespace {

const char* kGoodPolicy = R"({
  // minimal seat policy for daemon tests
  "usb": {"mode": "enforce", "allow_classes": ["hub", "hid", "audio"]},
  "firmware": {"mode": "audit"}
})";

struct RunningDaemon {
  std::string dir = make_temp_dir("daemon");
  std::string policy_dir = dir + "/policy.d";
  std::string state_dir = dir + "/state";
  std::string socket = dir + "/control.sock";
  std::unique_ptr<Child> child;

  RunningDaemon() {
    std::filesystem::create_directories(policy_dir);
    write_file(policy_dir + "/00-base.json", kGoodPolicy);
    child = std::make_unique<Child>(
        std::vector<std::string>{binary_path("agent/daemon/seatlockd"), "--policy-dir", policy_dir,
                                 "--state-dir", state_dir, "--control-socket", socket,
                                 "--components", "none", "--seat-id", "test-seat-1"},
        dir + "/seatlockd.log");
    REQUIRE(wait_until([&] { return std::filesystem::exists(socket); }));
  }
  ~RunningDaemon() {
    child.reset();
    std::filesystem::remove_all(dir);
  }
  RunResult ctl(std::vector<std::string> args, uid_t uid = 0, gid_t gid = 0) {
    args.insert(args.begin(), {binary_path("agent/cli/seatlockctl"), "--socket", socket});
    return run_command(args, uid, gid);
  }
  json status() { return json::parse(ctl({"--json", "status"}).out); }
};

}  // namespace

TEST_CASE("seatlockctl status answers with version, seat and the policy hash", "[daemon]") {
  RunningDaemon d;
  RunResult r = d.ctl({"status"});
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("seatlockd ") == 0);
  CHECK(r.out.find("test-seat-1") != std::string::npos);
  json st = d.status();
  CHECK(st["policy"]["sha256"].get<std::string>().size() == 64);
  CHECK(st["policy"]["sources"] == json::array({"policy.d/00-base.json"}));
}

TEST_CASE("a bad file dropped into the policy directory leaves the previous policy in force",
          "[daemon]") {
  RunningDaemon d;
  std::string before = d.status()["policy"]["sha256"];
  write_file(d.policy_dir + "/50-site.json",
             "{\n  \"usb\": {\"mode\": \"enforce\", \"allow_clases\": []}\n}\n");
  REQUIRE(wait_until([&] { return !events_of_kind(d.state_dir, "policy.rejected").empty(); }));
  json st = d.status();
  CHECK(st["policy"]["sha256"] == before);
  auto rejected = events_of_kind(d.state_dir, "policy.rejected");
  REQUIRE(rejected.size() == 1);
  std::string errors = rejected[0]["details"]["errors"].dump();
  CHECK(errors.find("policy.d/50-site.json:2:") != std::string::npos);
  CHECK(errors.find("/usb/allow_clases") != std::string::npos);
  CHECK(rejected[0]["details"]["in_force"] == before);
  // `seatlockctl reload` says so too, with exit 1.
  RunResult r = d.ctl({"reload"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("previous policy stays in force") != std::string::npos);
}

TEST_CASE("a good change is picked up by inotify and by SIGHUP, each with policy.applied",
          "[daemon]") {
  RunningDaemon d;
  std::string before = d.status()["policy"]["sha256"];
  write_file(d.policy_dir + "/50-site.json", R"({"usb": {"allow_classes": ["video"]}})");
  REQUIRE(wait_until([&] { return d.status()["policy"]["sha256"] != before; }));
  auto applied = events_of_kind(d.state_dir, "policy.applied");
  REQUIRE(applied.size() == 2);
  CHECK(applied[1]["details"]["sha256"] == d.status()["policy"]["sha256"]);
  CHECK(applied[1]["details"]["reason"] == "policy directory changed");
  kill(d.child->pid(), SIGHUP);
  REQUIRE(wait_until([&] { return events_of_kind(d.state_dir, "policy.applied").size() == 3; }));
  CHECK(events_of_kind(d.state_dir, "policy.applied")[2]["details"]["reason"] == "SIGHUP");
}

TEST_CASE("the control socket refuses non-root users, even when its file mode would let them in",
          "[daemon]") {
  RunningDaemon d;
  passwd* nobody = getpwnam("nobody");
  REQUIRE(nobody);
  // File mode: 0600 root, so connect() itself fails.
  struct stat st {};
  REQUIRE(stat(d.socket.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  chmod(d.dir.c_str(), 0755);
  RunResult r = d.ctl({"status"}, nobody->pw_uid, nobody->pw_gid);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("Permission denied") != std::string::npos);
  // Open the file mode: SO_PEERCRED still refuses.
  chmod(d.socket.c_str(), 0666);
  r = d.ctl({"status"}, nobody->pw_uid, nobody->pw_gid);
  CHECK(r.exit_code == 1);
  CHECK(r.out.find("root-only") != std::string::npos);
  CHECK(d.ctl({"status"}).exit_code == 0);
}

TEST_CASE("SIGTERM stops cleanly and the seq chain continues after a restart", "[daemon]") {
  std::string state;
  {
    RunningDaemon d;
    state = d.dir + "-keep";
    CHECK(d.child->stop(SIGTERM) == 0);
    CHECK(events_of_kind(d.state_dir, "agent.stopping").size() == 1);
    std::filesystem::rename(d.state_dir, state);
  }
  std::string dir = make_temp_dir("daemon2");
  std::filesystem::create_directories(dir + "/policy.d");
  write_file(dir + "/policy.d/00-base.json", kGoodPolicy);
  {
    Child again({binary_path("agent/daemon/seatlockd"), "--policy-dir", dir + "/policy.d",
                 "--state-dir", state, "--control-socket", dir + "/s", "--components", "none"},
                dir + "/log");
    REQUIRE(wait_until([&] { return std::filesystem::exists(dir + "/s"); }));
    again.stop();
  }
  auto all = all_events(state);
  REQUIRE(all.size() >= 6);
  for (size_t i = 0; i < all.size(); ++i) CHECK(all[i]["seq"] == i + 1);
  std::filesystem::remove_all(dir);
  std::filesystem::remove_all(state);
}
