// When the seatlock-uplink child runs: not before seatlockd has something to send (a seat without
// a collector keeps no idle HTTP/TLS process), and not again once seatlockd is stopping (systemd
// signals the whole cgroup, so the child usually dies first and must stay dead).
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <set>
#include <thread>

#include "uplink_test_helpers.hpp"

using namespace seatlock;
using namespace seatlock::evidence;
using namespace seatlock::uplink_test;
using nlohmann::json;
namespace t = seatlock::test;
namespace tg = seatlock::testing;

namespace {

constexpr int kBurst = 800;  // events recorded one per commit: about a second of loop work

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

}  // namespace

TEST_CASE("a seat without a collector runs no uplink child until a collector is configured",
          "[uplink]") {
  tg::TempDir tmp;
  SeatDaemon seat(tmp.path, "cc-up-03");  // policy: a seat id, no report.collector
  seat.start();
  const pid_t daemon = seat.child->pid();
  // Events are recorded (into the local spool) without any HTTP.
  seat.ctl("events.inject",
           {{"count", 20}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 10}});
  REQUIRE(t::wait_until([&] { return own_rows(seat) >= 21; }));  // + agent.started

  CHECK(uplink_of(daemon) == 0);
  json up = seat.ctl("status")["uplink"];
  INFO("status uplink: " << up.dump());
  CHECK(up["state"] == "not started");
  CHECK(up["pid"] == 0);
  CHECK(up["starts"] == 0);
  CHECK(up.value("reason", "").find("report.collector") != std::string::npos);
  auto json_out = seat.seatlockctl({"status", "--json"});
  CHECK(json::parse(json_out.out, nullptr, false).value("uplink", json())["state"] ==
        "not started");

  // A collector in the policy: the first batch starts the child and is delivered through it.
  tg::Pki pki(tmp);
  auto cert = pki.seat("cc-up-03");
  std::string db = tmp / "collector.db";
  tg::CollectorProcess collector(db, pki);
  const std::size_t recorded = own_rows(seat);
  seat.write_report(report_section(collector.url(), pki, cert));
  REQUIRE(t::wait_until([&] { return own_rows_delivered(seat, db, recorded); }, 60'000));
  const pid_t child = uplink_of(daemon);
  CHECK(child != 0);
  up = seat.ctl("status")["uplink"];
  INFO("status uplink: " << up.dump());
  CHECK(up["state"] == "running");
  CHECK(up["pid"] == child);
  CHECK(up["starts"] == 1);
  CHECK(up["requests"].get<int>() >= 1);
  if (child != 0) WARN("seatlock-uplink VmRSS: " << proc_status(child)["VmRSS"]);
}

TEST_CASE("stopping seatlockd and its uplink child together exits cleanly without a new child",
          "[uplink]") {
  DeliveringSeat rig("cc-up-04");
  SeatDaemon& seat = rig.seat;
  const std::string& db = rig.db;
  seat.start();
  REQUIRE(t::wait_until([&] { return own_rows_delivered(seat, db, 1); }, 60'000));
  const pid_t daemon = seat.child->pid();
  pid_t first = 0;
  REQUIRE(t::wait_until([&] { return (first = uplink_of(daemon)) != 0; }));

  // A busy seatlockd (a burst of events: its loop records them, its sender posts them) is
  // stopped the way systemd does it: SIGTERM to every process of the unit's cgroup. The child
  // dies at once; seatlockd reads its own SIGTERM only when the burst is recorded, well after
  // the child's restart backoff.
  std::thread burst([&] {
    try {
      seat.ctl("events.inject", {{"count", kBurst}, {"kind", "test.burst"}, {"batch", 1}});
    } catch (const std::exception&) {  // seatlockd may close the socket when it stops
    }
  });
  const bool burst_started =
      t::wait_until([&] { return !seat.spool_events("test.burst").empty(); });
  const auto signalled = std::chrono::steady_clock::now();
  CHECK(kill(first, SIGTERM) == 0);
  CHECK(kill(daemon, SIGTERM) == 0);
  std::set<pid_t> seen;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (seat.child->running() && std::chrono::steady_clock::now() < deadline) {
    for (pid_t p : uplinks_of(daemon)) seen.insert(p);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // a /proc sampling period
  }
  const bool exited_in_time = !seat.child->running();
  WARN("seatlockd exited " << std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - signalled)
                                  .count()
                           << " ms after the signals");
  burst.join();
  CHECK(burst_started);
  CHECK(exited_in_time);
  CHECK(seat.child->stop(SIGKILL) == 0);  // already exited: its exit status
  seen.erase(first);
  CHECK(seen.empty());
  // Every start is logged ("running (pid N)"), so one too short to be sampled shows too.
  const std::string log = t::read_file(seat.dir + "/seatlockd.log");
  INFO(log);
  CHECK(count_of(log, "seatlock-uplink running (pid") == 1);
}
