// The auditor commands (query, export, verify, seats, token) on both stores: every scenario is
// filled over the wire through `serve --store`, run once per store, and the answers must be the
// same on SQLite and ClickHouse (a clickhouse-server started by the test; nothing is skipped
// when it is installed).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "core/util/digest.hpp"
#include "core/util/time.hpp"
#include "harness.hpp"
#include "store_fixture.hpp"
#include "support/process.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using nlohmann::json;

namespace {

constexpr UnixMillis kDay = 86'400'000;
const UnixMillis kT0 = *parse_rfc3339("2026-11-20T08:00:00Z");

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

// Times of "now" (ingest, contact) differ between runs; the events' own times do not.
std::string without_now(const std::string& s) {
  std::string today = format_rfc3339_ms(now_ms()).substr(0, 10);
  return std::regex_replace(s, std::regex(today + "T[0-9:.]+Z"), "NOW");
}

// Two seats over two days. Built once per test case and posted to each store, so both
// stores receive byte-identical batches (event ids and keys are random per simulator).
struct Scenario {
  SeatSim a{"cc-a"}, b{"cc-b"};
  Post a1, a2, b1;
  Scenario() {
    std::vector<Event> all;
    for (auto& e : a.make(20, "usb.blocked", "high", kT0, 60'000)) {
      e.user = UserRef{"alice", 1001};
      all.push_back(e);
    }
    for (auto& e : a.make(10, "net.egress_denied", "medium", kT0 + kDay, 60'000)) {
      e.user = UserRef{"bob", 1002};
      all.push_back(e);
    }
    std::string prev = kGenesisPrev;  // users were set after make(): re-chain
    for (auto& e : all) {
      e.prev = prev;
      prev = chain_hash(e);
    }
    // Two batches for cc-a, so more than one signed chain head is checked.
    a1 = a.post(std::vector<Event>(all.begin(), all.begin() + 12));
    a2 = a.post(std::vector<Event>(all.begin() + 12, all.end()));
    b1 = b.post(b.make(15, "usb.blocked", "critical", kT0 + 30'000, 60'000));
  }
};

const Scenario& scenario() {
  static Scenario s;
  return s;
}

// The scenario filled into one store through `serve --store`.
struct Filled {
  TempDir dir;
  Pki pki{dir};
  TestStore store;
  explicit Filled(const std::string& kind) : store(kind, dir) {
    const Scenario& sc = scenario();
    StoreCollector c(store.spec, pki);
    auto ca = pki.seat("cc-a"), cb = pki.seat("cc-b");
    REQUIRE(post_events(c.url(), pki.ca, {ca.cert, ca.key, ""}, sc.a1).status == 200);
    REQUIRE(post_events(c.url(), pki.ca, {ca.cert, ca.key, ""}, sc.a2).status == 200);
    REQUIRE(post_events(c.url(), pki.ca, {cb.cert, cb.key, ""}, sc.b1).status == 200);
    REQUIRE(c.stop() == 0);
  }
  CliResult cli(std::vector<std::string> args) const {
    args.insert(args.begin() + 1, {"--store", store.spec});
    return run_cli(args);
  }
};

}  // namespace

TEST_CASE("query answers the same on SQLite and ClickHouse", "[collector][store][query]") {
  REQUIRE(store_kinds().size() == (clickhouse_server_binary().empty() ? 1u : 2u));
  std::map<std::string, std::vector<std::string>> answers;
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    Filled f(kind);
    auto q = [&](std::vector<std::string> extra) {
      extra.insert(extra.begin(), "query");
      CliResult r = f.cli(extra);
      REQUIRE(r.exit_code == 0);
      answers[kind].push_back(r.out);
      return r.out;
    };
    CHECK(lines(q({"--json"})) == 45);
    CHECK(lines(q({"--json", "--seat", "cc-b"})) == 15);
    CHECK(lines(q({"--json", "--user", "bob"})) == 10);
    CHECK(lines(q({"--json", "--kind", "usb.blocked"})) == 35);
    CHECK(lines(q({"--json", "--severity", "critical"})) == 15);
    CHECK(lines(q({"--json", "--seat", "cc-a", "--since", "2026-11-21", "--until",
                   "2026-11-22"})) == 10);
    CHECK(lines(q({"--json", "--since", "2026-11-20T08:05:00Z", "--until",
                   "2026-11-20T08:10:00Z"})) == 10);
    CHECK(lines(q({"--json", "--limit", "3"})) == 3);
    std::string csv = q({"--csv", "--seat", "cc-b", "--limit", "2"});
    CHECK(csv.find("2026-11-20T08:00:30.000Z,cc-b,1,") != std::string::npos);
    std::string table = q({"--user", "alice", "--limit", "2"});
    CHECK(table.find("(2 events)") != std::string::npos);
    // JSON lines are the events exactly as sent, in time order.
    std::istringstream in(q({"--json", "--seat", "cc-a", "--user", "bob"}));
    std::string line;
    std::uint64_t expect_seq = 21;
    while (std::getline(in, line)) {
      Event e;
      REQUIRE(event_from_json(json::parse(line), e).empty());
      CHECK(e.seq == expect_seq++);
    }
    CHECK(expect_seq == 31);
    CHECK(f.cli({"query", "--severity", "urgent"}).exit_code == 2);
  }
  if (answers.size() == 2) CHECK(answers["sqlite"] == answers["clickhouse"]);
}

TEST_CASE("query shows an event once while the ClickHouse store still holds a second copy of it",
          "[collector][store][query]") {
  if (store_kinds().size() < 2) return;  // ClickHouse not installed: nothing to compare
  Filled sqlite("sqlite"), ch("clickhouse");
  // What two instances storing one batch leave behind: a second copy of cc-a's first batch in
  // a part of its own, received later. Merges are stopped so the copy stays while queried.
  const std::string events = ch.store.database + ".events";
  ch.store.ch("SYSTEM STOP MERGES " + events);
  ch.store.ch("INSERT INTO " + events +
              " SELECT seat_id, time_ms, seq, id, kind, severity, user_name, chain_hash, prev, "
              "line, received_ms + 5000 FROM " +
              events + " WHERE seat_id = 'cc-a' AND seq <= 12");
  auto stored_rows = [&] { return ch.store.ch("SELECT count() FROM " + events); };
  REQUIRE(stored_rows() == "57\n");  // 45 events + 12 copies
  for (std::vector<std::string> args : std::vector<std::vector<std::string>>{
           {"--json"},
           {"--json", "--seat", "cc-a"},
           {"--json", "--seat", "cc-a", "--since", "2026-11-20", "--until", "2026-11-21"},
           {"--json", "--user", "alice", "--kind", "usb.blocked"},
           {"--json", "--limit", "15"},
           {"--csv", "--seat", "cc-a", "--limit", "13"}}) {
    args.insert(args.begin(), "query");
    CliResult want = sqlite.cli(args), got = ch.cli(args);
    INFO("query " << nlohmann::json(args).dump());
    REQUIRE(want.exit_code == 0);
    REQUIRE(got.exit_code == 0);
    CHECK(got.out == want.out);
  }
  CHECK(lines(ch.cli({"query", "--json", "--seat", "cc-a"}).out) == 30);
  CHECK(stored_rows() == "57\n");  // the copies were there for every query above
}

TEST_CASE("export files and manifest are the same on SQLite and ClickHouse",
          "[collector][store][export]") {
  std::map<std::string, json> manifests;
  std::map<std::string, std::map<std::string, std::string>> contents;
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    Filled f(kind);
    std::string dir = f.dir / "evidence";
    CliResult r = f.cli({"export", "--since", "2026-11-20", "--until", "2026-11-21", "--format",
                         "ndjson", "--out", dir});
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("exported 35 events from 2 seats") != std::string::npos);
    std::string mtext = slurp(dir + "/manifest.json");
    CHECK(r.out.find("manifest.json sha256 " + sha256_hex(mtext)) != std::string::npos);
    json m = json::parse(mtext);
    REQUIRE(m["files"].size() == 2);
    for (const auto& file : m["files"]) {
      std::string content = slurp(dir + "/" + file["file"].get<std::string>());
      CHECK(sha256_hex(content) == file["sha256"]);
      CHECK(lines(content) == file["events"].get<std::size_t>());
      contents[kind][file["file"]] = content;
    }
    CHECK(m["files"][0]["seat"] == "cc-a");
    CHECK(m["files"][0]["events"] == 20);
    CHECK(m["database"].get<std::string>().find(
              kind == "sqlite" ? "collector.db" : "clickhouse:") != std::string::npos);
    // Where and when differ; what was exported must not.
    m.erase("exported_at");
    m.erase("database");
    manifests[kind] = m;
    CHECK(f.cli({"export", "--since", "2026-11-20", "--until", "2026-11-21", "--format", "ndjson",
                 "--out", dir})
              .exit_code == 1);
  }
  if (manifests.size() == 2) {
    CHECK(manifests["sqlite"] == manifests["clickhouse"]);
    CHECK(contents["sqlite"] == contents["clickhouse"]);
  }
}

TEST_CASE("verify names the same seat and seq on both stores when events are deleted or edited",
          "[collector][store][verify]") {
  struct Case {
    const char* name;
    std::function<void(Filled&)> tamper;
    std::vector<std::string> expect;
  };
  const std::string high = "\"severity\":\"high\"", low = "\"severity\":\"low\"";
  std::vector<Case> cases = {
      {"untouched",
       [](Filled&) {},
       {"seat cc-a: ok, 30 events (seq 1..30), 2 signed chain heads verified",
        "seat cc-b: ok, 15 events (seq 1..15), 1 signed chain heads verified"}},
      {"deleted in the middle",
       [](Filled& f) { f.store.delete_event("cc-a", 7); },
       {"seat cc-a: seq 7 missing", "seat cc-b: ok", "1 problems in 1 seats"}},
      {"the newest event deleted",
       [](Filled& f) { f.store.delete_event("cc-b", 15); },
       {"seat cc-b: seq 15 missing", "seat cc-a: ok"}},
      {"severity edited in the stored line",
       [&](Filled& f) { f.store.edit_line("cc-a", 12, high, low); },
       {"seat cc-a: seq 12 altered", "1 problems in 1 seats"}},
      {"line and recorded hash edited together",
       [&](Filled& f) {
         f.store.edit_line("cc-a", 5, high, low);
         f.store.tamper("UPDATE events SET severity='low' WHERE seat_id='cc-a' AND seq=5",
                        "ALTER TABLE DATABASE.events UPDATE severity = 'low' WHERE seat_id = "
                        "'cc-a' AND seq = 5");
         CliResult q = f.cli({"query", "--seat", "cc-a", "--severity", "low", "--json"});
         REQUIRE(lines(q.out) == 1);
         Event e;
         REQUIRE(event_from_json(json::parse(q.out), e).empty());
         f.store.set_hash("cc-a", 5, chain_hash(e));
       },
       {"seat cc-a: seq 5 altered", "seat cc-b: ok"}},
      {"a signed chain head forged",
       [](Filled& f) {
         std::string other(86, 'A');
         other += "==";
         f.store.tamper("UPDATE chain_heads SET signature='" + other + "' WHERE seat_id='cc-b'",
                        "ALTER TABLE DATABASE.chain_heads UPDATE signature = '" + other +
                            "' WHERE seat_id = 'cc-b'");
       },
       {"seat cc-b: seq 15 signature: signed chain head does not verify", "seat cc-a: ok"}},
  };
  for (const Case& c : cases) {
    std::map<std::string, std::string> outputs;
    for (const std::string& kind : store_kinds()) {
      INFO("store " << kind << ", " << c.name);
      Filled f(kind);
      c.tamper(f);
      CliResult v = f.cli({"verify"});
      INFO(v.out);
      CHECK(v.exit_code == (std::string(c.name) == "untouched" ? 0 : 1));
      for (const std::string& want : c.expect) CHECK(v.out.find(want) != std::string::npos);
      outputs[kind] = v.out;
    }
    INFO(c.name);
    if (outputs.size() == 2) CHECK(outputs["sqlite"] == outputs["clickhouse"]);
  }
}

TEST_CASE("verify restricted to a seat and a day gives the same answer on both stores",
          "[collector][store][verify]") {
  std::map<std::string, std::string> outputs;
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    Filled f(kind);
    f.store.delete_event("cc-a", 25);
    CliResult day1 =
        f.cli({"verify", "--seat", "cc-a", "--since", "2026-11-20", "--until", "2026-11-21"});
    CHECK(day1.exit_code == 0);
    CHECK(day1.out.find("seat cc-a: ok, 20 events (seq 1..20)") != std::string::npos);
    CliResult day2 =
        f.cli({"verify", "--seat", "cc-a", "--since", "2026-11-21", "--until", "2026-11-22"});
    CHECK(day2.exit_code == 1);
    CHECK(day2.out.find("seat cc-a: seq 25 missing") != std::string::npos);
    CHECK(f.cli({"verify", "--seat", "cc-nobody"}).exit_code == 1);
    outputs[kind] = day1.out + day2.out;
  }
  if (outputs.size() == 2) CHECK(outputs["sqlite"] == outputs["clickhouse"]);
}

TEST_CASE("a gap is an open finding until the missing events arrive, on both stores",
          "[collector][store][verify][seats]") {
  std::map<std::string, std::string> outputs;
  SeatSim s("cc-gap");
  auto ev = s.make(10, "usb.blocked", "high", kT0, 1000);
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    TempDir dir;
    Pki pki(dir);
    TestStore store(kind, dir);
    auto cert = pki.seat("cc-gap");
    StoreCollector c(store.spec, pki);
    auto post = [&](std::size_t from, std::size_t to) {
      std::vector<Event> part(ev.begin() + from, ev.begin() + to);
      return post_events(c.url(), pki.ca, {cert.cert, cert.key, ""}, s.post(part)).status;
    };
    REQUIRE(post(0, 5) == 200);
    REQUIRE(post(8, 10) == 200);
    CliResult open = run_cli({"verify", "--store", store.spec});
    INFO(open.out);
    CHECK(open.exit_code == 1);
    CHECK(open.out.find("seat cc-gap: seq 6..8 missing") != std::string::npos);
    CHECK(open.out.find("finding at ingest") != std::string::npos);
    CHECK(open.out.find("gap seq 6..8") != std::string::npos);
    json seats = json::parse(run_cli({"seats", "--store", store.spec, "--json"}).out);
    CHECK(seats.at(0)["open_findings"] == 1);
    CHECK(seats.at(0)["last_seq"] == 10);
    REQUIRE(post(5, 8) == 200);
    REQUIRE(post(5, 8) == 200);  // a re-sent batch is acknowledged and stored once
    CliResult closed = run_cli({"verify", "--store", store.spec});
    INFO(closed.out);
    CHECK(closed.exit_code == 0);
    CHECK(closed.out.find("seat cc-gap: ok, 10 events (seq 1..10)") != std::string::npos);
    outputs[kind] = without_now(open.out + closed.out);
  }
  if (outputs.size() == 2) CHECK(outputs["sqlite"] == outputs["clickhouse"]);
}

TEST_CASE("seats flags silent and refused seats the same way on both stores",
          "[collector][store][seats]") {
  std::map<std::string, json> answers;
  SeatSim live("cc-live"), gone("cc-gone"), other("cc-other");
  UnixMillis now = now_ms();
  // Heartbeats every 60 s: cc-live up to now, cc-gone stopped an hour ago.
  Post hb_live = live.post(live.make(5, "agent.heartbeat", "info", now - 4 * 60'000, 60'000));
  Post hb_gone =
      gone.post(gone.make(5, "agent.heartbeat", "info", now - 3600'000 - 4 * 60'000, 60'000));
  Post foreign = other.post(other.make(2));
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    TempDir dir;
    Pki pki(dir);
    TestStore store(kind, dir);
    {
      StoreCollector c(store.spec, pki);
      auto cl = pki.seat("cc-live"), cg = pki.seat("cc-gone"), cw = pki.seat("cc-wrong");
      REQUIRE(post_events(c.url(), pki.ca, {cl.cert, cl.key, ""}, hb_live).status == 200);
      REQUIRE(post_events(c.url(), pki.ca, {cg.cert, cg.key, ""}, hb_gone).status == 200);
      // cc-wrong's certificate, another seat's events: refused, nothing stored.
      REQUIRE(post_events(c.url(), pki.ca, {cw.cert, cw.key, ""}, foreign).status == 403);
      REQUIRE(c.stop() == 0);  // the refusal is recorded with the last commit
    }
    CliResult r = run_cli({"seats", "--store", store.spec, "--json"});
    INFO(r.out);
    REQUIRE(r.exit_code == 0);
    json list = json::parse(r.out);
    REQUIRE(list.size() == 3);
    CHECK(list[0]["seat"] == "cc-gone");
    CHECK(list[0]["silent"] == true);
    CHECK(list[0]["heartbeat_interval_ms"] == 60'000);
    CHECK(list[1]["seat"] == "cc-live");
    CHECK(list[1]["silent"] == false);
    CHECK(list[2]["seat"] == "cc-wrong");
    CHECK(list[2]["silent"] == true);
    CHECK(list[2]["last_refusal"]["status"] == 403);
    CHECK(list[2]["last_refusal"]["count"] == 1);
    CliResult table = run_cli({"seats", "--store", store.spec});
    CHECK(table.out.find("(2 silent seats") != std::string::npos);
    for (auto& s : list) {  // ingest times and durations measured from now differ per run
      for (const char* k : {"last_received", "last_contact", "silent_for_ms"}) s.erase(k);
      if (s["last_refusal"].is_object()) s["last_refusal"].erase("time");
    }
    answers[kind] = list;
  }
  if (answers.size() == 2) CHECK(answers["sqlite"] == answers["clickhouse"]);
}

TEST_CASE("enrollment tokens are issued, listed and revoked on both stores",
          "[collector][store][auth]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    TempDir dir;
    Pki pki(dir);
    TestStore store(kind, dir);
    CliResult enrolled = run_cli({"enroll", "--store", store.spec, "--seat", "cc-tok"});
    REQUIRE(enrolled.exit_code == 0);
    std::string token = enrolled.out.substr(0, enrolled.out.find('\n'));
    REQUIRE(token.rfind("slt_", 0) == 0);
    StoreCollector c(store.spec, pki, {"--tokens-only"});
    SeatSim s("cc-tok");
    CHECK(post_events(c.url(), pki.ca, {"", "", token}, s.post(s.make(3))).status == 200);
    CliResult list = run_cli({"token", "list", "--store", store.spec});
    CHECK(list.out.find("cc-tok") != std::string::npos);
    CHECK(list.out.find("valid") != std::string::npos);
    CHECK(run_cli({"token", "revoke", "--store", store.spec, "--seat", "cc-tok"}).out ==
          "revoked 1 token\n");
    // SQLite refuses at once; ClickHouse answers tokens from a per-instance cache and refuses
    // within 2 s (the batch may be stored meanwhile).
    const Post after = s.post(s.make(1));
    int accepted = 0;
    CHECK(seatlock::test::wait_until(
        [&] {
          long status = post_events(c.url(), pki.ca, {"", "", token}, after).status;
          if (status == 200) accepted = 1;
          return status == 401;
        },
        2'500));
    if (kind == "sqlite") CHECK(accepted == 0);
    CHECK(run_cli({"token", "list", "--store", store.spec}).out.find("revoked 20") !=
          std::string::npos);
    CHECK(run_cli({"verify", "--store", store.spec})
              .out.find("seat cc-tok: ok, " + std::to_string(3 + accepted) + " events") !=
          std::string::npos);
  }
}

TEST_CASE("the store options --store and --db are checked before anything is opened",
          "[collector][store]") {
  TempDir dir;
  CHECK(run_cli({"query", "--db", dir / "a.db", "--store", "sqlite:" + dir / "a.db"}).exit_code ==
        2);
  CHECK(run_cli({"query", "--store", "mysql://x"}).exit_code == 2);
  CHECK(run_cli({"query"}).exit_code == 2);
  // Auditor commands never create a store.
  CHECK(run_cli({"query", "--store", "sqlite:" + dir / "none.db"}).exit_code == 1);
  if (auto* ch = shared_clickhouse()) {
    CliResult r = run_cli({"verify", "--store", "clickhouse:" + ch->url() + "/?database=nothing"});
    CHECK(r.exit_code == 1);
    CHECK(ch->query("SELECT count() FROM system.databases WHERE name = 'nothing'") == "0\n");
  }
}
