// seatlockd's HTTP runs in the seatlock-uplink child (issues 14, 18), checked on real processes:
// a real seatlockd delivering to a real seatlock-collector on loopback. The child must hold no
// privilege (uid, groups, capabilities, no_new_privs, descriptors), seatlockd must not map
// libcurl, and a killed child must be replaced with every event still delivered.
#include <dirent.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "e2e_helpers.hpp"

using namespace seatlock;
using namespace seatlock::evidence;
using nlohmann::json;
namespace t = seatlock::test;
namespace tg = seatlock::testing;

namespace {

// The seatlock-uplink process whose parent is `parent`, or 0.
pid_t uplink_of(pid_t parent) {
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    auto close = line.rfind(')');
    auto open = line.find('(');
    if (close == std::string::npos || open == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && line.substr(open + 1, close - open - 1) == "seatlock-uplink")
      return static_cast<pid_t>(std::stoi(name));
  }
  return 0;
}

std::map<std::string, std::string> proc_status(pid_t pid) {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    out[line.substr(0, colon)] = value;
  }
  return out;
}

bool maps_mention(pid_t pid, const std::string& needle) {
  return t::read_file("/proc/" + std::to_string(pid) + "/maps").find(needle) != std::string::npos;
}

std::set<int> open_fds(pid_t pid) {
  std::set<int> fds;
  for (const auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd"))
    fds.insert(std::stoi(e.path().filename().string()));
  return fds;
}

// Every row of the seat's own id is delivered and the collector holds exactly those rows.
bool own_rows_delivered(SeatDaemon& seat, const std::string& db, std::size_t at_least) {
  std::size_t own = 0;
  for (auto& e : seat.spool_events()) {
    if (e["seat"]["id"] != seat.seat_id) continue;
    if (e["status"] != "delivered") return false;
    ++own;
  }
  return own >= at_least && collector_rows(db, seat.seat_id).size() == own;
}

}  // namespace

TEST_CASE("seatlockd's HTTP runs in an unprivileged child, and seatlockd maps no libcurl",
          "[uplink]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("cc-up-01");
  std::string db = tmp / "collector.db";
  tg::CollectorProcess collector(db, pki);
  SeatDaemon seat(tmp.path, "cc-up-01");
  seat.write_report(report_section(collector.url(), pki, cert));
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
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("cc-up-02");
  std::string db = tmp / "collector.db";
  tg::CollectorProcess collector(db, pki);
  SeatDaemon seat(tmp.path, "cc-up-02");
  seat.write_report(report_section(collector.url(), pki, cert));
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
