// Seat to collector, real processes on loopback over TLS: seatlockd --components delivery
// posting its spool to seatlock-collector serve. (The sender's answers to odd collector
// responses, from a scripted endpoint: e2e_delivery_test.cpp.)
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <set>
#include <thread>

#include "core/util/digest.hpp"
#include "e2e_helpers.hpp"
#include "os/spool/spool.hpp"

using namespace seatlock;
using namespace seatlock::evidence;
using nlohmann::json;
namespace t = seatlock::test;
namespace tg = seatlock::testing;

namespace {

// Everything the seat recorded reached the collector exactly once, in seq order, chained.
void require_collector_matches_spool(SeatDaemon& seat, const std::string& db) {
  auto spool = seat.spool_events();
  auto rows = collector_rows(db, seat.seat_id);
  REQUIRE(rows.size() == spool.size());
  std::set<std::string> ids;
  for (size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i]["id"] == spool[i]["id"]);
    CHECK(rows[i]["seq"] == spool[i]["seq"]);
    CHECK(rows[i]["seq"].get<std::uint64_t>() == i + 1);
    ids.insert(rows[i]["id"].get<std::string>());
    json line = rows[i];
    if (i == 0)
      CHECK(line["prev"] == kGenesisPrev);
    else
      CHECK(line["prev"] == sha256_hex(canonical_bytes(rows[i - 1])));
  }
  CHECK(ids.size() == rows.size());
}

bool all_delivered(SeatDaemon& seat, const std::string& db) {
  auto spool = seat.spool_events();
  for (auto& e : spool)
    if (e["status"] != "delivered") return false;
  return collector_rows(db, seat.seat_id).size() == spool.size();
}

}  // namespace

TEST_CASE(
    "events reach the collector once, in order, chained, and a collector outage loses nothing",
    "[e2e]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("seat-e2e-1");
  std::string db = tmp / "collector.db";
  auto collector = std::make_unique<tg::CollectorProcess>(db, pki);
  SeatDaemon seat(tmp.path, "seat-e2e-1");
  seat.write_report(report_section(collector->url(), pki, cert));
  seat.start();

  seat.ctl("events.inject",
           {{"count", 300}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 50}});
  REQUIRE(t::wait_until([&] { return all_delivered(seat, db); }, 60'000));
  require_collector_matches_spool(seat, db);
  CHECK(tg::run_cli({"verify", "--db", db, "--seat", "seat-e2e-1"}).exit_code == 0);

  // Outage: events stay queued while the collector is down ...
  collector->stop();
  collector.reset();
  const auto requests_before = seat.ctl("delivery.status").value("requests", 0);
  seat.ctl("events.inject",
           {{"count", 200}, {"kind", "net.tamper"}, {"severity", "critical"}, {"batch", 20}});
  // Until the sender has tried the collector that is gone and backs off.
  CHECK(t::wait_until(
      [&] {
        json st = seat.ctl("delivery.status");
        return st.value("requests", 0) > requests_before && st.value("state", "") == "backoff";
      },
      10'000));
  CHECK(seat.count_status("queued") >= 200);
  // ... and arrive, without duplicates, once it is back (on a new port: the policy follows).
  collector = std::make_unique<tg::CollectorProcess>(db, pki);
  seat.write_report(report_section(collector->url(), pki, cert));
  seat.ctl("delivery.flush");
  REQUIRE(t::wait_until([&] { return all_delivered(seat, db); }, 120'000));
  require_collector_matches_spool(seat, db);
  CHECK(tg::run_cli({"verify", "--db", db, "--seat", "seat-e2e-1"}).exit_code == 0);
}

TEST_CASE(
    "seatlockd SIGKILLed during a burst of events: the collector holds every stored event once",
    "[e2e][crash]") {
  DeliveringSeat rig("seat-e2e-2");
  SeatDaemon& seat = rig.seat;
  const std::string& db = rig.db;
  seat.start();

  // Batches of 1,000 until the daemon dies under them: a fixed 10,000 could all be stored
  // before the kill once the spool got fast, and the test would no longer kill mid-burst.
  std::atomic<bool> burst_interrupted{false};
  std::thread burst([&] {
    try {
      for (int i = 0; i < 500; ++i)
        seat.ctl("events.inject",
                 {{"count", 1000}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 25}},
                 600'000);
    } catch (const std::exception&) {
      burst_interrupted = true;  // the daemon died under it
    }
  });
  // Kill once part of the burst is durable and part of it delivered. (The loop thread is busy
  // injecting, so progress is read from the spool file, read-only.)
  bool midway = t::wait_until(
      [&] {
        try {
          SpoolReader r(seat.state_dir + "/spool.db");
          SpoolStats st = r.stats();
          return st.head_seq > 1500 && st.delivered > 0;
        } catch (const std::exception&) {
          return false;
        }
      },
      120'000);
  seat.kill9();
  burst.join();
  REQUIRE(midway);
  CHECK(burst_interrupted);  // the burst really was interrupted
  std::size_t stored_at_kill = seat.spool_events().size();
  CHECK(stored_at_kill > 1500);

  seat.start();
  REQUIRE(t::wait_until([&] { return all_delivered(seat, db); }, 180'000));
  require_collector_matches_spool(seat, db);
}

TEST_CASE("spool overflow in the daemon: spool.overflow names the lost range, no violation is lost",
          "[e2e][overflow]") {
  tg::TempDir tmp;
  SeatDaemon seat(tmp.path, "seat-e2e-4");
  seat.write_report(
      {{"spool_max", "48KiB"}, {"heartbeat", "1h"}});  // no collector: all stays local
  seat.start();
  seat.ctl("events.inject",
           {{"count", 20}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 5}});
  seat.ctl("events.inject",
           {{"count", 600}, {"kind", "test.synthetic"}, {"severity", "info"}, {"batch", 20}});
  seat.ctl("events.inject",
           {{"count", 20}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 5}});

  auto spool = seat.spool_events();
  std::set<std::uint64_t> present, recorded;
  std::size_t violations = 0;
  for (auto& e : spool) {
    present.insert(e["seq"].get<std::uint64_t>());
    if (e["kind"] == "usb.blocked") ++violations;
    if (e["kind"] != "spool.overflow") continue;
    for (auto& r : e["details"]["dropped"])
      for (auto s = r["first"].get<std::uint64_t>(); s <= r["last"].get<std::uint64_t>(); ++s)
        recorded.insert(s);
  }
  CHECK(violations == 40);
  REQUIRE(!recorded.empty());
  std::set<std::uint64_t> missing;
  for (std::uint64_t s = 1; s <= *present.rbegin(); ++s)
    if (!present.count(s)) missing.insert(s);
  CHECK(missing == recorded);
}
