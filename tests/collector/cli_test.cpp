// Auditor commands (verify, query, export, seats) on a database filled over the wire.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/util/digest.hpp"
#include "core/util/time.hpp"
#include "harness.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using nlohmann::json;

namespace {

constexpr UnixMillis kDay = 86'400'000;
const UnixMillis kT0 = *parse_rfc3339("2026-11-20T08:00:00Z");

struct Filled {
  TempDir dir;
  Pki pki{dir};
  std::string db = dir / "collector.db";
  SeatSim a{"cc-a"}, b{"cc-b"};
  Filled() {
    CollectorProcess c(db, pki);
    auto ca = pki.seat("cc-a"), cb = pki.seat("cc-b");
    // Seat a: 20 events on 2026-11-20 (usb.blocked by alice), 10 on 2026-11-21 (net by bob).
    auto a1 = a.make(20, "usb.blocked", "high", kT0, 60'000);
    for (auto& e : a1) e.user = UserRef{"alice", 1001};
    auto a2 = a.make(10, "net.egress_denied", "medium", kT0 + kDay, 60'000);
    for (auto& e : a2) e.user = UserRef{"bob", 1002};
    // Re-chain after editing users: rebuild through a fresh simulator with the same content.
    REQUIRE(post(c, ca, rechain(a, a1, a2)) == 200);
    auto b1 = b.make(15, "usb.blocked", "critical", kT0 + 30'000, 60'000);
    REQUIRE(post(c, cb, b.post(b1)) == 200);
  }
  long post(CollectorProcess& c, const Pki::Pair& cert, const Post& p) {
    return post_events(c.url(), pki.ca, {cert.cert, cert.key, ""}, p).status;
  }
  // Users are set after make(); recompute seq/prev so the chain is valid for the edited events.
  static Post rechain(SeatSim& sim, std::vector<Event> x, const std::vector<Event>& y) {
    x.insert(x.end(), y.begin(), y.end());
    std::string prev = kGenesisPrev;
    for (auto& e : x) {
      e.prev = prev;
      prev = chain_hash(e);
    }
    return sim.post(x);
  }
};

std::size_t lines(const std::string& s) {
  std::size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

TEST_CASE("verify names exactly the seat and seq deleted or edited in the database",
          "[collector][verify]") {
  Filled f;
  CliResult clean = run_cli({"verify", "--db", f.db});
  INFO(clean.out);
  REQUIRE(clean.exit_code == 0);
  CHECK(clean.out.find("seat cc-a: ok, 30 events (seq 1..30)") != std::string::npos);
  CHECK(clean.out.find("seat cc-b: ok, 15 events (seq 1..15)") != std::string::npos);

  SECTION("deleted in the middle") {
    REQUIRE(sql_exec(f.db, "DELETE FROM events WHERE seat_id='cc-a' AND seq=7") == 1);
    CliResult v = run_cli({"verify", "--db", f.db});
    INFO(v.out);
    CHECK(v.exit_code == 1);
    CHECK(v.out.find("seat cc-a: seq 7 missing") != std::string::npos);
    CHECK(v.out.find("seat cc-b: ok") != std::string::npos);
    CHECK(v.out.find("1 problems in 1 seats") != std::string::npos);
  }
  SECTION("the newest event deleted") {
    REQUIRE(sql_exec(f.db, "DELETE FROM events WHERE seat_id='cc-b' AND seq=15") == 1);
    CliResult v = run_cli({"verify", "--db", f.db});
    INFO(v.out);
    CHECK(v.exit_code == 1);
    CHECK(v.out.find("seat cc-b: seq 15 missing") != std::string::npos);
    CHECK(v.out.find("seat cc-a: ok") != std::string::npos);
  }
  SECTION("severity edited in the stored line") {
    REQUIRE(sql_exec(f.db,
                     "UPDATE events SET line = replace(line, '\"severity\":\"high\"', "
                     "'\"severity\":\"low\"') "
                     "WHERE seat_id='cc-a' AND seq=12") == 1);
    CliResult v = run_cli({"verify", "--db", f.db});
    INFO(v.out);
    CHECK(v.exit_code == 1);
    CHECK(v.out.find("seat cc-a: seq 12 altered") != std::string::npos);
    CHECK(v.out.find("1 problems in 1 seats") != std::string::npos);
  }
  SECTION("line and recorded hash edited together") {
    // A careful forger also rewrites the hash recorded at ingest and the indexed column; the next
    // event's prev still points at the original.
    REQUIRE(sql_exec(f.db,
                     "UPDATE events SET line = replace(line, '\"severity\":\"high\"', "
                     "'\"severity\":\"low\"'), "
                     "severity='low' WHERE seat_id='cc-a' AND seq=12") == 1);
    std::string line;
    {
      CliResult q =
          run_cli({"query", "--db", f.db, "--seat", "cc-a", "--severity", "low", "--json"});
      REQUIRE(lines(q.out) == 1);
      line = q.out.substr(0, q.out.size() - 1);
    }
    Event e;
    REQUIRE(event_from_json(json::parse(line), e).empty());
    REQUIRE(sql_exec(f.db, "UPDATE events SET chain_hash='" + chain_hash(e) +
                               "' WHERE seat_id='cc-a' AND seq=12") == 1);
    CliResult v = run_cli({"verify", "--db", f.db});
    INFO(v.out);
    CHECK(v.exit_code == 1);
    CHECK(v.out.find("seat cc-a: seq 12 altered") != std::string::npos);
    CHECK(v.out.find("seat cc-b: ok") != std::string::npos);
  }
  SECTION("restricted to one seat and a time range") {
    REQUIRE(sql_exec(f.db, "DELETE FROM events WHERE seat_id='cc-a' AND seq=25") == 1);
    CliResult day1 = run_cli({"verify", "--db", f.db, "--seat", "cc-a", "--since", "2026-11-20",
                              "--until", "2026-11-21"});
    INFO(day1.out);
    CHECK(day1.exit_code == 0);
    CHECK(day1.out.find("seat cc-a: ok, 20 events (seq 1..20)") != std::string::npos);
    CHECK(day1.out.find("cc-b") == std::string::npos);
    CliResult day2 = run_cli({"verify", "--db", f.db, "--seat", "cc-a", "--since", "2026-11-21",
                              "--until", "2026-11-22"});
    CHECK(day2.exit_code == 1);
    CHECK(day2.out.find("seat cc-a: seq 25 missing") != std::string::npos);
  }
}

TEST_CASE("query filters by seat, user, kind, severity and time, as table, JSON or CSV",
          "[collector][query]") {
  Filled f;
  auto q = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"query", "--db", f.db};
    args.insert(args.end(), extra.begin(), extra.end());
    CliResult r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  CHECK(lines(q({"--json"})) == 45);
  CHECK(lines(q({"--json", "--seat", "cc-b"})) == 15);
  CHECK(lines(q({"--json", "--user", "bob"})) == 10);
  CHECK(lines(q({"--json", "--kind", "usb.blocked"})) == 35);
  CHECK(lines(q({"--json", "--severity", "critical"})) == 15);
  CHECK(lines(q({"--json", "--seat", "cc-a", "--since", "2026-11-21", "--until", "2026-11-22"})) ==
        10);
  CHECK(lines(q({"--json", "--since", "2026-11-20T08:05:00Z", "--until",
                 "2026-11-20T08:10:00Z"})) == 10);
  CHECK(lines(q({"--json", "--limit", "3"})) == 3);

  // JSON lines are the events as sent, ordered by time.
  std::string js = q({"--json", "--seat", "cc-a", "--user", "bob"});
  std::istringstream in(js);
  std::string line;
  std::uint64_t expect_seq = 21;
  while (std::getline(in, line)) {
    Event e;
    REQUIRE(event_from_json(json::parse(line), e).empty());
    CHECK(e.seq == expect_seq++);
    CHECK(e.kind == "net.egress_denied");
  }

  std::string csv = q({"--csv", "--seat", "cc-b", "--limit", "2"});
  CHECK(csv.rfind("time,seat,seq,id,kind,severity,user,outcome,mode,rule,details\r\n", 0) == 0);
  CHECK(lines(csv) == 3);
  CHECK(csv.find("2026-11-20T08:00:30.000Z,cc-b,1,") != std::string::npos);
  CHECK(csv.find(",usb.blocked,critical,agent.test,blocked,enforce,usb.test,\"{\"\"n\"\":1,") !=
        std::string::npos);

  std::string table = q({"--user", "alice", "--limit", "2"});
  CHECK(table.find("TIME") == 0);
  CHECK(table.find("cc-a") != std::string::npos);
  CHECK(table.find("(2 events)") != std::string::npos);

  CHECK(run_cli({"query", "--db", f.db, "--severity", "urgent"}).exit_code == 2);
  CHECK(run_cli({"query", "--db", f.dir / "nope.db"}).exit_code == 1);
}

TEST_CASE("export writes per-seat files whose SHA-256 the manifest records",
          "[collector][export]") {
  Filled f;
  std::string out = f.dir / "evidence";
  for (std::string fmt : {"ndjson", "csv"}) {
    std::string dir = out + "-" + fmt;
    CliResult r = run_cli({"export", "--db", f.db, "--since", "2026-11-20", "--until", "2026-11-21",
                           "--format", fmt, "--out", dir});
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("exported 35 events from 2 seats") != std::string::npos);
    std::string mtext = slurp(dir + "/manifest.json");
    CHECK(r.out.find("manifest.json sha256 " + sha256_hex(mtext)) != std::string::npos);
    json m = json::parse(mtext);
    CHECK(m["events"] == 35);
    CHECK(m["range"]["since"] == "2026-11-20T00:00:00.000Z");
    CHECK(m["format"] == fmt);
    CHECK_FALSE(m["exported_by"]["host"].get<std::string>().empty());
    REQUIRE(m["files"].size() == 2);
    std::size_t files_seen = 0;
    for (const auto& file : m["files"]) {
      std::string content = slurp(dir + "/" + file["file"].get<std::string>());
      CHECK(sha256_hex(content) == file["sha256"]);
      CHECK(content.size() == file["bytes"]);
      CHECK(lines(content) == file["events"].get<std::size_t>() + (fmt == "csv" ? 1 : 0));
      ++files_seen;
    }
    CHECK(files_seen == 2);
    CHECK(m["files"][0]["seat"] == "cc-a");
    CHECK(m["files"][0]["events"] == 20);
    CHECK(m["files"][0]["last_seq"] == 20);
    // A second export into the same directory is refused rather than mixing evidence.
    CHECK(run_cli({"export", "--db", f.db, "--since", "2026-11-20", "--until", "2026-11-21",
                   "--format", fmt, "--out", dir})
              .exit_code == 1);
  }
  // Tampering with an exported file is visible against the manifest.
  std::string dir = out + "-ndjson";
  json m = json::parse(slurp(dir + "/manifest.json"));
  std::string name = dir + "/" + m["files"][1]["file"].get<std::string>();
  std::string content = slurp(name);
  content[content.find("critical")] = 'C';
  std::ofstream(name, std::ios::binary) << content;
  CHECK(sha256_hex(slurp(name)) != m["files"][1]["sha256"]);
}

TEST_CASE("seats lists last event and heartbeat and flags a silent seat", "[collector][seats]") {
  TempDir dir;
  Pki pki(dir);
  std::string db = dir / "collector.db";
  {
    CollectorProcess c(db, pki);
    auto ca = pki.seat("cc-live"), cb = pki.seat("cc-gone");
    SeatSim live("cc-live"), gone("cc-gone");
    UnixMillis now = now_ms();
    // Heartbeats every 60 s: cc-live up to now, cc-gone stopped an hour ago.
    auto hb_live = live.make(5, "agent.heartbeat", "info", now - 4 * 60'000, 60'000);
    auto hb_gone = gone.make(5, "agent.heartbeat", "info", now - 3600'000 - 4 * 60'000, 60'000);
    REQUIRE(post_events(c.url(), pki.ca, {ca.cert, ca.key, ""}, live.post(hb_live)).status == 200);
    REQUIRE(post_events(c.url(), pki.ca, {cb.cert, cb.key, ""}, gone.post(hb_gone)).status == 200);
  }
  CliResult r = run_cli({"seats", "--db", db, "--silent-after", "3"});
  INFO(r.out);
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  std::string line, gone_line, live_line;
  while (std::getline(in, line)) {
    if (line.rfind("cc-gone", 0) == 0) gone_line = line;
    if (line.rfind("cc-live", 0) == 0) live_line = line;
  }
  CHECK(gone_line.find("SILENT 1h") != std::string::npos);
  CHECK(gone_line.find("agent.heartbeat") != std::string::npos);
  CHECK(live_line.find(" ok") != std::string::npos);
  CHECK(r.out.find("(1 silent seat,") != std::string::npos);

  json j = json::parse(run_cli({"seats", "--db", db, "--json"}).out);
  REQUIRE(j.size() == 2);
  CHECK(j[0]["seat"] == "cc-gone");
  CHECK(j[0]["silent"] == true);
  CHECK(j[0]["heartbeat_interval_ms"] == 60000);
  CHECK(j[1]["silent"] == false);
  // With a long enough allowance nobody is silent.
  CHECK(run_cli({"seats", "--db", db, "--silent-after", "100"}).out.find("(0 silent seats,") !=
        std::string::npos);
}
