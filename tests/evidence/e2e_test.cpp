// Seat to collector, real processes on loopback over TLS: seatlockd --components delivery
// posting its spool to seatlock-collector serve (or, for the scripted cases, to a tiny fake
// HTTPS endpoint).
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

TEST_CASE("events reach the collector once, in order, chained; a collector outage loses nothing",
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
  seat.ctl("events.inject",
           {{"count", 200}, {"kind", "net.tamper"}, {"severity", "critical"}, {"batch", 20}});
  std::this_thread::sleep_for(std::chrono::seconds(2));
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
    "seatlockd SIGKILLed during a burst of 10,000 events: the collector holds every stored event "
    "once",
    "[e2e][crash]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("seat-e2e-2");
  std::string db = tmp / "collector.db";
  tg::CollectorProcess collector(db, pki);
  SeatDaemon seat(tmp.path, "seat-e2e-2");
  seat.write_report(report_section(collector.url(), pki, cert));
  seat.start();

  std::atomic<bool> burst_finished{false};
  std::thread burst([&] {
    try {
      seat.ctl("events.inject",
               {{"count", 10000}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 25}},
               600'000);
      burst_finished = true;
    } catch (const std::exception&) {
      // the daemon dies under it
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
  CHECK_FALSE(burst_finished);  // the burst really was interrupted
  std::size_t stored_at_kill = seat.spool_events().size();
  CHECK(stored_at_kill > 1500);

  seat.start();
  REQUIRE(t::wait_until([&] { return all_delivered(seat, db); }, 180'000));
  require_collector_matches_spool(seat, db);
}

TEST_CASE("400 quarantines the batch and Retry-After is honoured", "[e2e][sender]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("seat-e2e-3");
  std::string log = tmp / "requests.log";
  // request 1 -> 400, request 2 -> 503 Retry-After: 3, then 200.
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  pid_t fake = fork();
  if (fake == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    std::string script = std::string(SEATLOCK_SOURCE_DIR) + "/tests/evidence/fake_collector.py";
    execl("/usr/bin/python3", "python3", script.c_str(), pki.server_cert.c_str(),
          pki.server_key.c_str(), log.c_str(), "400", "503:3", "200", nullptr);
    _exit(127);
  }
  close(fds[1]);
  char line[128] = {};
  FILE* f = fdopen(fds[0], "r");
  REQUIRE(fgets(line, sizeof line, f) != nullptr);
  fclose(f);
  std::string port = std::string(line).substr(std::string(line).rfind(':') + 1);
  port.erase(port.find_last_not_of("\r\n") + 1);

  SeatDaemon seat(tmp.path, "seat-e2e-3");
  seat.write_report(report_section("https://127.0.0.1:" + port + "/v1/events", pki, cert));
  seat.start();
  auto requests = [&] {
    std::vector<json> out;
    std::ifstream in(log);
    for (std::string l; std::getline(in, l);) out.push_back(json::parse(l));
    return out;
  };
  bool three = t::wait_until([&] { return requests().size() >= 3; }, 60'000);
  kill(fake, SIGTERM);
  waitpid(fake, nullptr, 0);
  REQUIRE(three);
  auto reqs = requests();
  CHECK(reqs[0]["status"] == 400);
  CHECK(reqs[1]["status"] == 503);
  CHECK(reqs[2].value("t", 0.0) - reqs[1].value("t", 0.0) >= 3.0);  // waited at least Retry-After

  // The rejected batch is kept, quarantined; the report of it went out in the next request.
  auto spool = seat.spool_events();
  std::set<std::uint64_t> rejected;
  for (auto& s : reqs[0]["seqs"]) rejected.insert(s.get<std::uint64_t>());
  std::uint64_t quarantine_event = 0;
  for (auto& e : spool) {
    if (rejected.count(e["seq"].get<std::uint64_t>())) {
      CHECK(e["status"] == "quarantined");
      CHECK(e.value("status_note", "").find("400") != std::string::npos);
    }
    if (e["kind"] == "delivery.quarantined") quarantine_event = e["seq"];
  }
  REQUIRE(quarantine_event != 0);
  std::set<std::uint64_t> sent_ok;
  for (auto& s : reqs[2]["seqs"]) sent_ok.insert(s.get<std::uint64_t>());
  CHECK(sent_ok.count(quarantine_event) == 1);
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
