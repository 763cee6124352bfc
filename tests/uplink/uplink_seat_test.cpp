// seatlockd's HTTP runs in the seatlock-uplink child (issues 14, 18), checked on real processes:
// a real seatlockd delivering to a real seatlock-collector on loopback. The child must hold no
// privilege (uid, groups, capabilities, no_new_privs, descriptors), seatlockd must not map
// libcurl, and a killed child must be replaced with every event still delivered.
#include <dirent.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "uplink_test_helpers.hpp"

using namespace seatlock;
using namespace seatlock::evidence;
using nlohmann::json;
namespace t = seatlock::test;
namespace tg = seatlock::testing;

namespace {

using namespace seatlock::uplink_test;

bool maps_mention(pid_t pid, const std::string& needle) {
  return t::read_file("/proc/" + std::to_string(pid) + "/maps").find(needle) != std::string::npos;
}

std::set<int> open_fds(pid_t pid) {
  std::set<int> fds;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    fds.insert(std::stoi(e.path().filename().string()));
  return fds;
}

}  // namespace

TEST_CASE("seatlockd's HTTP runs in an unprivileged child, and seatlockd maps no libcurl",
          "[uplink]") {
  DeliveringSeat rig("cc-up-01");
  SeatDaemon& seat = rig.seat;
  const std::string& db = rig.db;
  seat.start();
  REQUIRE(t::wait_until([&] { return own_rows_delivered(seat, db, 1); }, 60'000));

  const pid_t daemon = seat.child->pid();
  pid_t child = 0;
  REQUIRE(t::wait_until([&] { return (child = uplink_of(daemon)) != 0; }));
  auto st = proc_status(child);
  INFO("seatlock-uplink pid " << child << " Uid: " << st["Uid"] << " Gid: " << st["Gid"]);
  for (const char* ids : {"Uid", "Gid"}) {
    std::istringstream in(st[ids]);
    int n = 0;
    for (long id; in >> id; ++n) CHECK(id != 0);  // real, effective, saved, filesystem
    CHECK(n == 4);
  }
  CHECK(st["Groups"].empty());
  for (const char* caps : {"CapInh", "CapPrm", "CapEff", "CapAmb"})
    CHECK(st[caps] == "0000000000000000");
  CHECK(st["NoNewPrivs"] == "1");
  // stdin/stdout/stderr and its socket: nothing else of seatlockd's leaks into it.
  CHECK(open_fds(child) == std::set<int>{0, 1, 2, 3});
  CHECK(maps_mention(child, "libcurl"));
  CHECK_FALSE(maps_mention(daemon, "libcurl"));
  CHECK_FALSE(maps_mention(daemon, "libgnutls"));
  CHECK(seat.ctl("status")["uplink"]["pid"] == child);
}

TEST_CASE("a killed uplink child is replaced and delivery resumes with nothing lost", "[uplink]") {
  DeliveringSeat rig("cc-up-02");
  SeatDaemon& seat = rig.seat;
  const std::string& db = rig.db;
  seat.start();
  REQUIRE(t::wait_until([&] { return own_rows_delivered(seat, db, 1); }, 60'000));
  const pid_t daemon = seat.child->pid();
  pid_t first = 0;
  REQUIRE(t::wait_until([&] { return (first = uplink_of(daemon)) != 0; }));

  seat.ctl("events.inject",
           {{"count", 500}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 50}});
  REQUIRE(kill(first, SIGKILL) == 0);
  seat.ctl("events.inject",
           {{"count", 500}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 50}});

  pid_t second = 0;
  REQUIRE(t::wait_until(
      [&] {
        second = uplink_of(daemon);
        return second != 0 && second != first;
      },
      30'000));
  CHECK(t::wait_until([&] { return own_rows_delivered(seat, db, 1000); }, 90'000));
  CHECK(kill(daemon, 0) == 0);  // seatlockd itself carried on
  json up = seat.ctl("status")["uplink"];
  CHECK(up["starts"].get<int>() >= 2);
  CHECK(t::read_file(seat.dir + "/seatlockd.log").find("ended") != std::string::npos);
}
