// The console's data APIs (console/query_api.hpp) on both stores: every answer is compared with
// what a brute-force pass over the stored events says.
#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "console/filter.hpp"
#include "console/query_api.hpp"
#include "console_query_fixture.hpp"
#include "os/sqlite/sqlite.hpp"
#include "store_open.hpp"

using namespace seatlock::collector;
using namespace seatlock::collector::console;
using namespace seatlock::testing;
using nlohmann::json;

namespace {

json call(HttpResponse (*fn)(EventStore&, const ApiRequest&), EventStore& s,
          std::map<std::string, std::string> query, int want_status = 200) {
  ApiRequest req;
  req.method = "GET";
  req.query = std::move(query);
  HttpResponse r = fn(s, req);
  INFO(r.body);
  REQUIRE(r.status == want_status);
  return json::parse(r.body);
}

// Walks every page of /api/events; returns (seat, seq) in the order served.
std::vector<std::pair<std::string, std::uint64_t>> all_pages(
    EventStore& s, std::map<std::string, std::string> query, int* pages = nullptr) {
  std::vector<std::pair<std::string, std::uint64_t>> out;
  int n = 0;
  for (;;) {
    json page = call(api_events, s, query);
    ++n;
    for (const json& e : page["events"])
      out.emplace_back(e["seat"].get<std::string>(), e["seq"].get<std::uint64_t>());
    if (page["next"].is_null()) break;
    query["after"] = page["next"].get<std::string>();
    REQUIRE(n < 1000);
  }
  if (pages) *pages = n;
  return out;
}

// What the pages must hold: matching events newest first, ties by seat then seq, descending.
std::vector<std::pair<std::string, std::uint64_t>> expected(
    const std::vector<StoredEvent>& events, const std::map<std::string, std::string>& query) {
  ConsoleFilter f;
  REQUIRE_FALSE(parse_filter(query, f));
  std::vector<StoredEvent> m;
  for (const StoredEvent& e : events)
    if (matches(f, e)) m.push_back(e);
  std::sort(m.begin(), m.end(), [](const StoredEvent& a, const StoredEvent& b) {
    return std::tie(b.time_ms, b.seat_id, b.seq) < std::tie(a.time_ms, a.seat_id, a.seq);
  });
  std::vector<std::pair<std::string, std::uint64_t>> out;
  for (const StoredEvent& e : m) out.emplace_back(e.seat_id, e.seq);
  return out;
}

}  // namespace

TEST_CASE("events pages hold every matching event once, newest first", "[console][query]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    ConsoleStore cs(kind, 1500);
    const std::vector<std::map<std::string, std::string>> filters = {
        {},
        {{"seat", "cc-b"}},
        {{"user", "alice"}},
        {{"kind", "usb.blocked"}},
        {{"severity", "critical"}},
        {{"outcome", "blocked"}},
        {{"q", "DATATRAVELER"}},
        {{"q", "数据"}, {"seat", "cc-c"}},
        {{"seat", "cc-a"}, {"kind", "net.egress_denied"}, {"user", "bob"}},
        {{"from", std::to_string(kConsoleNow - 2 * 86'400'000)},
         {"to", "2026-12-01T00:00:00+08:00"}},
        {{"kind", "no.such_kind"}},
    };
    for (auto f : filters) {
      INFO("filter " << json(f).dump());
      auto want = expected(cs.events, f);
      for (const char* limit : {"100", "7"}) {
        f["limit"] = limit;
        int pages = 0;
        auto got = all_pages(*cs.store, f, &pages);
        CHECK(got == want);
        // A page is full unless it is the last.
        CHECK(pages == std::max<int>(1, (static_cast<int>(want.size()) + std::stoi(limit) - 1) /
                                            std::stoi(limit)));
      }
    }
  }
}

TEST_CASE("events rows carry outcome and a summary, bad parameters are 400", "[console][query]") {
  ConsoleStore cs("sqlite", 50);
  json page = call(api_events, *cs.store, {{"limit", "1"}, {"kind", "usb.blocked"}});
  REQUIRE(page["events"].size() == 1);
  const json& row = page["events"][0];
  CHECK(row["outcome"] == "blocked");
  CHECK(row["summary"].get<std::string>().find("Kingston") == 0);
  CHECK(row["summary"].get<std::string>().find("(0951:16") != std::string::npos);
  for (auto [name, value] : std::vector<std::pair<std::string, std::string>>{
           {"limit", "0"}, {"limit", "501"}, {"after", "garbage"}, {"to", "x"}, {"nope", "1"}}) {
    json err = call(api_events, *cs.store, {{name, value}}, 400);
    CHECK(err["error"].get<std::string>().find(name) != std::string::npos);
  }
}

TEST_CASE("event answers the stored line, 404 when there is none", "[console][query]") {
  ConsoleStore cs("sqlite", 20);
  const StoredEvent& e = cs.events[3];
  json got = call(api_event, *cs.store, {{"seat", e.seat_id}, {"seq", std::to_string(e.seq)}});
  CHECK(got["event"] == json::parse(e.line));
  CHECK(got["chain_hash"] == e.chain_hash);
  CHECK(got["received_ms"] == e.received_ms);
  call(api_event, *cs.store, {{"seat", e.seat_id}, {"seq", "9999"}}, 404);
  call(api_event, *cs.store, {{"seat", e.seat_id}}, 400);
}

TEST_CASE("seats and seat show chain status and state from the seat's events", "[console][query]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    ConsoleStore cs(kind, 100);
    const std::int64_t t = kConsoleNow - 60'000;
    cs.add("cc-z", "", "policy.applied", "info", "applied", t, {{"fleet", {{"version", 7}}}});
    cs.add("cc-z", "", "net.closed", "medium", "applied", t + 1, {{"ticket", "T-1"}});
    cs.add("cc-z", "", "net.opened", "info", "applied", t + 2, {{"ticket", "T-1"}});
    cs.add("cc-z", "", "net.closed", "medium", "applied", t + 3, {{"ticket", "T-2"}});
    cs.add("cc-z", "dora", "usb.blocked", "high", "blocked", t + 4,
           {{"vid", "0781"},
            {"pid", "5581"},
            {"serial", "S1"},
            {"manufacturer", "SanDisk"},
            {"product", "Ultra"}});
    cs.add("cc-z", "", "firmware.attestation_verdict", "info", "reported", t + 5,
           {{"result", "trusted"}});
    {
      auto txn = cs.store->begin();
      txn->add_finding({0, "cc-b", 4, 6, "gap", "events 4..6 missing", t, false});
      txn->add_finding({0, "cc-c", 2, 2, "break", "prev does not match", t, false});
      txn->commit();
    }
    json seats = call(api_seats, *cs.store, {});
    std::map<std::string, std::string> chain;
    for (const json& s : seats["seats"]) chain[s["seat"]] = s["chain"];
    CHECK(chain.size() == 6);
    CHECK(chain["cc-a"] == "ok");
    CHECK(chain["cc-b"] == "gaps");
    CHECK(chain["cc-c"] == "broken");

    json z = call(api_seat, *cs.store, {{"id", "cc-z"}});
    CHECK(z["state"]["policy_version"] == 7);
    CHECK(z["state"]["internet"] == "closed");  // closed, opened, closed again
    REQUIRE(z["state"]["usb_devices"].size() == 1);
    CHECK(z["state"]["usb_devices"][0]["vendor"] == "SanDisk");
    CHECK(z["state"]["usb_devices"][0]["decision"] == "blocked");
    CHECK(z["state"]["firmware"]["result"] == "trusted");
    CHECK(z["chain"]["status"] == "ok");
    CHECK(z["chain"]["head_seq"] == 6);
    json c = call(api_seat, *cs.store, {{"id", "cc-c"}});
    CHECK(c["chain"]["status"] == "broken");
    CHECK(c["chain"]["findings"][0]["kind"] == "break");
    CHECK(c["state"]["internet"] == "unknown");
    call(api_seat, *cs.store, {{"id", "nobody"}}, 404);
  }
}

TEST_CASE("person lists the user's seats and kinds", "[console][query]") {
  ConsoleStore cs("sqlite", 400);
  json p = call(api_person, *cs.store, {{"name", "bob"}});
  std::map<std::string, std::uint64_t> seats, kinds;
  for (const StoredEvent& e : cs.events)
    if (e.user_name == "bob") ++seats[e.seat_id], ++kinds[e.kind];
  std::map<std::string, std::uint64_t> got_seats;
  for (const json& s : p["seats"]) got_seats[s["seat"]] = s["count"];
  CHECK(got_seats == seats);
  CHECK(p["kinds"].get<std::map<std::string, std::uint64_t>>() == kinds);
  call(api_person, *cs.store, {{"name", "nobody"}}, 404);
}

TEST_CASE("overview counts violations per day in the viewer's zone", "[console][query]") {
  for (const std::string& kind : store_kinds()) {
    INFO("store " << kind);
    ConsoleStore cs(kind, 2000);
    // A seat last heard of two days ago (no heartbeat since): silent.
    // Its old events arrived only now (a seat that was offline delivers its backlog).
    cs.add("cc-gone", "", "policy.applied", "info", "applied", kConsoleNow - 2 * 86'400'000LL, {});
    {
      auto txn = cs.store->begin();
      SeatRecord gone = *txn->seat("cc-gone");
      gone.last_received_ms = kConsoleNow - 1000;
      txn->put_seat(gone);
      txn->commit();
    }
    for (int tz : {0, 480, -300, 330}) {
      INFO("tz_offset_min " << tz);
      ApiRequest req;
      req.query = {{"days", "6"}, {"tz_offset_min", std::to_string(tz)}};
      HttpResponse r = api_overview(*cs.store, req, {{"cc-q", 9, 8}}, kConsoleNow);
      REQUIRE(r.status == 200);
      json o = json::parse(r.body);
      // Brute force: violations by local date and kind, per seat, per user.
      std::map<std::string, std::map<std::string, std::uint64_t>> by_day;
      std::map<std::string, std::uint64_t> by_seat, by_user;
      for (const StoredEvent& e : cs.events) {
        if (!counts_as_violation(e.seat_id, e.kind, e.severity)) continue;
        std::int64_t local = e.time_ms + tz * 60'000LL;
        char buf[16];
        std::time_t secs = static_cast<std::time_t>(local / 1000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
        ++by_day[buf][e.kind];
        ++by_seat[e.seat_id];
        if (!e.user_name.empty()) ++by_user[e.user_name];
      }
      REQUIRE(o["days"].size() == 6);
      CHECK(o["days"][5]["date"] == "2026-12-01");
      for (const json& d : o["days"])
        CHECK(d["kinds"].get<std::map<std::string, std::uint64_t>>() ==
              by_day[d["date"].get<std::string>()]);
      // All events are within the window: the top lists are the full totals.
      REQUIRE(o["top_seats"].size() == by_seat.size());
      for (const json& s : o["top_seats"]) CHECK(s["count"] == by_seat[s["seat"]]);
      for (std::size_t i = 1; i < o["top_seats"].size(); ++i)
        CHECK(o["top_seats"][i - 1]["count"] >= o["top_seats"][i]["count"]);
      for (const json& u : o["top_users"]) CHECK(u["count"] == by_user[u["user"]]);
      CHECK(o["top_users"].size() == by_user.size());
      CHECK(o["behind_on_policy"][0]["seat"] == "cc-q");
      // A silent seat is shown with its last sign of life (its newest event here: the fixture
      // sends no heartbeats), not with when its old events happened to be received.
      std::map<std::string, std::int64_t> newest;
      for (const StoredEvent& e : cs.events)
        newest[e.seat_id] = std::max(newest[e.seat_id], e.time_ms);
      REQUIRE(!o["silent_seats"].empty());
      for (const json& s : o["silent_seats"])
        CHECK(s["last_seen_ms"].get<std::int64_t>() == newest[s["seat"].get<std::string>()]);
      CHECK(o["chains"]["ok"] == 6);
    }
    ApiRequest bad;
    bad.query = {{"days", "0"}};
    CHECK(api_overview(*cs.store, bad).status == 400);
  }
}

TEST_CASE("a database from before the console gets its rollups filled once",
          "[console][query][sqlite]") {
  ConsoleStore cs("sqlite", 600);
  ApiRequest req;
  req.query = {{"days", "6"}};
  std::string before = api_overview(*cs.store, req, {}, kConsoleNow).body;
  cs.store.reset();
  // As the previous version left it: no rollup tables.
  seatlock::sql::Db(cs.test_store.sqlite_path)
      .exec("DROP TABLE rollup_kind; DROP TABLE rollup_seat; DROP TABLE rollup_user");
  cs.store = open_store(cs.test_store.spec, /*create=*/true);
  CHECK(api_overview(*cs.store, req, {}, kConsoleNow).body == before);
  // And ingest keeps them current afterwards.
  cs.add("cc-a", "alice", "net.tamper", "critical", "reverted", kConsoleNow - 1000, {});
  json o = json::parse(api_overview(*cs.store, req, {}, kConsoleNow).body);
  CHECK(o["days"][5]["kinds"]["net.tamper"].get<int>() ==
        json::parse(before)["days"][5]["kinds"].value("net.tamper", 0) + 1);
  // What the collector itself records (a failed console login, a central action) is not a
  // seat's breach: neither in the chart nor among the top seats.
  cs.add("collector:vm", "", "console.login_failed", "medium", "", kConsoleNow - 900, {});
  json after = json::parse(api_overview(*cs.store, req, {}, kConsoleNow).body);
  CHECK(after["days"][5]["kinds"] == o["days"][5]["kinds"]);
  for (const json& s : after["top_seats"]) CHECK(s["seat"] != "collector:vm");
}
