// Evidence delivery in the configuration IT deploys (seat id only in a policy file, hostname
// different), and the sender's rules for answers that are not "stored": which rows may leave
// the queue (a line the collector names, rows of a foreign seat id) and which must stay (404,
// a 400 for everything). Real seatlockd, real or scripted collector on loopback.
#include <catch2/catch.hpp>
#include <fstream>
#include <set>

#include "e2e_helpers.hpp"
#include "os/spool/spool.hpp"

using namespace seatlock;
using namespace seatlock::evidence;
using nlohmann::json;
namespace t = seatlock::test;
namespace tg = seatlock::testing;

namespace {

std::vector<json> of_kind(const std::vector<json>& rows, const std::string& kind) {
  std::vector<json> out;
  for (const auto& r : rows)
    if (r.value("kind", "") == kind) out.push_back(r);
  return out;
}

// Every row of the seat's own id is delivered and the collector holds exactly those rows.
bool own_rows_delivered(SeatDaemon& seat, const std::string& db) {
  std::size_t own = 0;
  for (auto& e : seat.spool_events()) {
    if (e["seat"]["id"] != seat.seat_id) continue;
    if (e["status"] != "delivered") return false;
    ++own;
  }
  return own > 0 && collector_rows(db, seat.seat_id).size() == own;
}

json status_of(const std::vector<json>& rows, std::uint64_t seq) {
  for (const auto& r : rows)
    if (r["seq"] == seq) return r;
  return json();
}

std::vector<json> collector_seats(const std::string& db) {
  auto r = tg::run_cli({"seats", "--db", db, "--json"});
  auto j = json::parse(r.out, nullptr, false);
  return j.is_array() ? j.get<std::vector<json>>() : std::vector<json>{};
}

}  // namespace

// IT's configuration: seat id only in 90-seat.json, no --seat-id flag, hostname differs.
TEST_CASE("seat id from the policy file: every event arrives under the seat id", "[e2e][seat-id]") {
  DeliveringSeat rig("cc-bj-03-117");
  SeatDaemon& seat = rig.seat;
  const std::string& db = rig.db;
  REQUIRE(seat.hostname != seat.seat_id);
  seat.start();

  REQUIRE(t::wait_until([&] { return own_rows_delivered(seat, db); }, 60'000));
  auto spool = seat.spool_events();
  for (const auto& e : spool) {
    CHECK(e["seat"]["id"] == "cc-bj-03-117");
    CHECK(e["seat"]["hostname"] == seat.hostname);
  }
  auto rows = collector_rows(db, "cc-bj-03-117");
  REQUIRE(!of_kind(rows, "agent.started").empty());
  CHECK(rows.front()["kind"] == "agent.started");
  CHECK(rows.front()["seq"] == 1);
  auto seats = collector_seats(db);
  REQUIRE(seats.size() == 1);
  CHECK(seats[0]["seat"] == "cc-bj-03-117");
  CHECK(seat.ctl("status")["seat"]["id"] == "cc-bj-03-117");

  SECTION("a reload that changes report.seat_id changes it for later events") {
    t::write_file(seat.policy_dir + "/.90-seat.tmp",
                  json{{"report", {{"seat_id", "cc-bj-03-200"}}}}.dump());
    std::filesystem::rename(seat.policy_dir + "/.90-seat.tmp", seat.policy_dir + "/90-seat.json");
    REQUIRE(
        t::wait_until([&] { return seat.ctl("status")["seat"]["id"] == "cc-bj-03-200"; }, 20'000));
    // The certificate still names cc-bj-03-117: the collector refuses the new id, which is the
    // seat's own, so this is an auth problem (rows stay queued), not rows to set aside.
    REQUIRE(t::wait_until([&] { return seat.ctl("delivery.status")["state"] == "auth-failed"; },
                          30'000));
    auto rows = seat.spool_events();
    std::size_t renamed = 0;
    for (const auto& e : rows) {
      if (e["seat"]["id"] != "cc-bj-03-200") continue;
      ++renamed;
      CHECK(e["status"] == "queued");
    }
    CHECK(renamed >= 1);  // policy.applied of the reload
    CHECK(rows.back()["seat"]["id"] == "cc-bj-03-200");
    CHECK(seat.count_status("set-aside") == 0);
  }

  SECTION("a restart with a broken policy directory keeps the seat id of the last good policy") {
    seat.kill9();
    t::write_file(seat.policy_dir + "/60-broken.json", "{ not json");
    seat.start();
    REQUIRE(t::wait_until(
        [&] {
          auto r = collector_rows(db, "cc-bj-03-117");
          return of_kind(r, "agent.started").size() == 2 && own_rows_delivered(seat, db);
        },
        60'000));
    for (const auto& e : seat.spool_events()) CHECK(e["seat"]["id"] == "cc-bj-03-117");
    CHECK(!of_kind(collector_rows(db, "cc-bj-03-117"), "policy.rejected").empty());
  }
}

// Leftovers of the old start-up order: rows recorded under the hostname.
TEST_CASE("rows of another seat id are set aside visibly and requeued on request",
          "[e2e][seat-id][set-aside]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("cc-bj-03-118");
  std::string db = tmp / "collector.db";
  tg::CollectorProcess collector(db, pki);
  SeatDaemon seat(tmp.path, "cc-bj-03-118");
  {
    // What an older seatlockd left behind: events recorded under the hostname.
    std::filesystem::create_directories(seat.state_dir);
    Spool spool(seat.state_dir + "/spool.db");
    for (const char* kind : {"agent.started", "usb.blocked", "policy.applied"}) {
      Event e;
      e.seat_id = "old-hostname";
      e.hostname = "old-hostname";
      e.kind = kind;
      e.severity = std::string(kind) == "usb.blocked" ? "high" : "info";
      e.outcome = "reported";
      spool.append(std::move(e));
    }
  }
  seat.write_report(report_section(collector.url(), pki, cert));
  seat.start();

  auto set_aside_events = [&] { return of_kind(seat.spool_events(), "delivery.set_aside"); };
  REQUIRE(t::wait_until([&] { return own_rows_delivered(seat, db) && !set_aside_events().empty(); },
                        60'000));
  auto spool = seat.spool_events();
  for (std::uint64_t seq : {1, 2, 3}) {
    auto row = status_of(spool, seq);
    CHECK(row["status"] == "set-aside");
    CHECK(row.value("status_note", "").find("old-hostname") != std::string::npos);
  }
  auto notice = set_aside_events().front();
  CHECK(notice["seat"]["id"] == "cc-bj-03-118");
  CHECK(notice["severity"] == "medium");
  CHECK(notice["details"]["events"] == 3);
  CHECK(notice["details"]["first_seq"] == 1);
  CHECK(notice["details"]["last_seq"] == 3);
  CHECK(notice["details"]["seat_id"] == "old-hostname");
  CHECK(notice["details"]["status"] == 403);
  // The notice itself reached the collector, and the seat is listed there.
  CHECK(!of_kind(collector_rows(db, "cc-bj-03-118"), "delivery.set_aside").empty());
  auto seats = collector_seats(db);
  REQUIRE(seats.size() == 1);
  CHECK(seats[0]["seat"] == "cc-bj-03-118");

  // Counted in the daemon's status and shown by seatlockctl events.
  json st = seat.ctl("delivery.status");
  CHECK(st["set_aside"] == 3);
  CHECK(st["spool"]["set_aside"] == 3);
  auto listing = seat.seatlockctl({"events"});
  CHECK(listing.exit_code == 0);
  CHECK(listing.out.find("3 set aside") != std::string::npos);
  std::size_t shown = 0;
  for (std::size_t at = 0; (at = listing.out.find("set-aside", at)) != std::string::npos; ++at)
    ++shown;
  CHECK(shown == 3);

  // requeue: back in the queue, tried again (and, still refused, set aside again).
  auto rq = seat.seatlockctl({"events", "requeue", "--all"});
  CHECK(rq.exit_code == 0);
  CHECK(rq.out.find("3 events back in the delivery queue") != std::string::npos);
  REQUIRE(t::wait_until([&] { return set_aside_events().size() == 2; }, 30'000));
  CHECK(seat.count_status("set-aside") == 3);
  CHECK(seat.seatlockctl({"events", "requeue"}).exit_code == 2);  // says which rows
}

TEST_CASE("a 404 endpoint quarantines nothing: violations stay queued and arrive later",
          "[e2e][sender]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("cc-bj-03-119");
  SeatDaemon seat(tmp.path, "cc-bj-03-119");
  seat.write_report({{"heartbeat", "1h"}});  // no collector yet: everything stays queued
  seat.start();
  seat.ctl("events.inject",
           {{"count", 300}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 50}});

  FakeCollector proxy(pki, tmp / "requests.log", {"404"});
  seat.write_report(report_section(proxy.url(), pki, cert));
  REQUIRE(t::wait_until([&] { return proxy.requests().size() >= 3; }, 60'000));
  CHECK(seat.count_status("quarantined") == 0);
  CHECK(of_kind(seat.spool_events(), "delivery.quarantined").empty());
  json st = seat.ctl("delivery.status");
  CHECK(st["last_status"] == 404);
  CHECK(st["quarantined"] == 0);
  CHECK(st["spool"]["quarantined"] == 0);

  std::string db = tmp / "collector.db";
  tg::CollectorProcess collector(db, pki);
  seat.write_report(report_section(collector.url(), pki, cert));
  seat.ctl("delivery.flush");
  REQUIRE(t::wait_until([&] { return own_rows_delivered(seat, db); }, 120'000));
  CHECK(of_kind(collector_rows(db, "cc-bj-03-119"), "usb.blocked").size() == 300);
  CHECK(seat.count_status("queued") == 0);
}

TEST_CASE("a 400 naming a line quarantines that row only, Retry-After is honoured, requeue",
          "[e2e][sender]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("cc-bj-03-120");
  SeatDaemon seat(tmp.path, "cc-bj-03-120");
  seat.write_report({{"heartbeat", "1h"}});
  seat.start();
  seat.ctl("events.inject",
           {{"count", 10}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 10}});

  // request 1 -> 400 naming line 3, request 2 -> 503 Retry-After: 3, then 200.
  FakeCollector fake(pki, tmp / "requests.log", {"400@3", "503:3", "200"});
  seat.write_report(report_section(fake.url(), pki, cert));
  auto quarantined_notice = [&] { return of_kind(seat.spool_events(), "delivery.quarantined"); };
  REQUIRE(t::wait_until(
      [&] {
        return fake.requests().size() >= 3 && !quarantined_notice().empty() &&
               seat.count_status("queued") == 0;
      },
      60'000));
  auto reqs = fake.requests();
  CHECK(reqs[0]["status"] == 400);
  CHECK(reqs[1]["status"] == 503);
  CHECK(reqs[2].value("t", 0.0) - reqs[1].value("t", 0.0) >= 3.0);  // waited at least Retry-After
  REQUIRE(reqs[0]["seqs"].size() >= 3);
  const std::uint64_t bad = reqs[0]["seqs"][2];

  auto spool = seat.spool_events();
  CHECK(seat.count_status("quarantined") == 1);
  auto row = status_of(spool, bad);
  CHECK(row["status"] == "quarantined");
  CHECK(row.value("status_note", "").find("400") != std::string::npos);
  for (const auto& s : reqs[0]["seqs"])
    if (s != bad) CHECK(status_of(spool, s)["status"] == "delivered");
  auto notice = quarantined_notice();
  REQUIRE(notice.size() == 1);
  CHECK(notice[0]["details"]["first_seq"] == bad);
  CHECK(notice[0]["details"]["events"] == 1);
  CHECK(status_of(spool, notice[0]["seq"])["status"] == "delivered");

  // The listing shows the state; requeue sends the row again (now answered 200).
  auto listing = seat.seatlockctl({"events"});
  CHECK(listing.out.find("1 quarantined") != std::string::npos);
  auto rq = seat.seatlockctl({"events", "requeue", "--seq", std::to_string(bad)});
  CHECK(rq.exit_code == 0);
  CHECK(rq.out.find("1 events back in the delivery queue") != std::string::npos);
  REQUIRE(t::wait_until(
      [&] { return status_of(seat.spool_events(), bad)["status"] == "delivered"; }, 30'000));
  CHECK(seat.count_status("quarantined") == 0);
}

TEST_CASE("a 400 without a line: bisection finds the one bad row, the rest is delivered",
          "[e2e][sender]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("cc-bj-03-121");
  SeatDaemon seat(tmp.path, "cc-bj-03-121");
  seat.write_report({{"heartbeat", "1h"}});
  seat.start();
  seat.ctl("events.inject",
           {{"count", 40}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 40}});
  seat.ctl("events.inject", {{"count", 1}, {"kind", "test.poison"}, {"severity", "info"}});
  seat.ctl("events.inject",
           {{"count", 40}, {"kind", "usb.blocked"}, {"severity", "high"}, {"batch", 40}});

  FakeCollector fake(pki, tmp / "requests.log", {"reject-kind=test.poison"});
  seat.write_report(report_section(fake.url(), pki, cert));
  REQUIRE(t::wait_until(
      [&] {
        return seat.count_status("queued") == 0 &&
               !of_kind(seat.spool_events(), "delivery.quarantined").empty();
      },
      60'000));
  auto spool = seat.spool_events();
  CHECK(seat.count_status("quarantined") == 1);
  auto poison = of_kind(spool, "test.poison");
  REQUIRE(poison.size() == 1);
  CHECK(poison[0]["status"] == "quarantined");
  CHECK(of_kind(spool, "usb.blocked").size() == 80);
  for (const auto& e : of_kind(spool, "usb.blocked")) CHECK(e["status"] == "delivered");
  // Found by halving: the last rejected request held the poison row alone, and it was never
  // sent again.
  auto reqs = fake.requests();
  std::size_t last_rejected = 0;
  for (std::size_t i = 0; i < reqs.size(); ++i)
    if (reqs[i]["status"] == 400) last_rejected = i;
  CHECK(reqs[last_rejected]["kinds"] == json::array({"test.poison"}));
  CHECK(reqs.size() < 30);
  for (std::size_t i = last_rejected + 1; i < reqs.size(); ++i)
    for (const auto& k : reqs[i]["kinds"]) CHECK(k != "test.poison");
}

TEST_CASE("a 400 without a line for every request quarantines nothing", "[e2e][sender]") {
  tg::TempDir tmp;
  tg::Pki pki(tmp);
  auto cert = pki.seat("cc-bj-03-122");
  SeatDaemon seat(tmp.path, "cc-bj-03-122");
  seat.write_report({{"heartbeat", "1h"}});
  seat.start();
  seat.ctl("events.inject",
           {{"count", 100}, {"kind", "usb.blocked"}, {"severity", "critical"}, {"batch", 100}});

  FakeCollector proxy(pki, tmp / "requests.log", {"400@0"});
  seat.write_report(report_section(proxy.url(), pki, cert));
  // Long enough to bisect down to single rows and probe: 1 + log2(100) requests and more.
  REQUIRE(t::wait_until(
      [&] {
        auto r = proxy.requests();
        return r.size() >= 12 && r.back()["seqs"].size() == 1;
      },
      90'000));
  CHECK(seat.count_status("quarantined") == 0);
  CHECK(seat.ctl("delivery.status")["state"] != "idle");
  for (const auto& e : of_kind(seat.spool_events(), "usb.blocked")) CHECK(e["status"] == "queued");
}
