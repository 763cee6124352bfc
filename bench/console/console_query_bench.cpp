// Console API latency over a large SQLite store: p50/p95 of /api/events (first page) for a set
// of filters, /api/overview, /api/seat, /api/person, /api/seats, as the server would run them
// (the API functions on the store, without TLS).
// usage: console_query_bench [--db /tmp/sl-console-bench-10m.db] [--events 10000000]
//                            [--seats 1000] [--users 2000] [--days 30] [--runs 20]
// The store is generated when the file does not exist (schema of serve, indexes and rollups
// built by opening it as serve does), and kept for later runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "console/query_api.hpp"
#include "core/util/time.hpp"
#include "os/sqlite/sqlite.hpp"
#include "sqlite_store.hpp"

using namespace seatlock;
using namespace seatlock::collector;
using namespace seatlock::collector::console;

namespace {

const UnixMillis kEnd = *parse_rfc3339("2026-12-01T00:00:00Z");
constexpr UnixMillis kDay = 86'400'000;

struct Kind {
  const char* kind;
  const char* severity;
  const char* outcome;
  int weight;  // per 1000 events
};
// Mostly heartbeats and aggregated network denials, USB now and then, tampering rare.
const Kind kKinds[] = {
    {"agent.heartbeat", "info", "reported", 600},
    {"net.egress_denied", "medium", "blocked", 250},
    {"usb.blocked", "high", "blocked", 60},
    {"usb.storage_detected", "high", "blocked", 30},
    {"usb.exception_used", "medium", "allowed", 20},
    {"policy.applied", "info", "applied", 20},
    {"net.dns_denied", "medium", "blocked", 18},
    {"net.tamper", "critical", "reverted", 2},
};

std::string seat_name(std::uint64_t s) {
  char b[32];
  std::snprintf(b, sizeof b, "seat-%04llu", static_cast<unsigned long long>(s));
  return b;
}

void generate(const std::string& path, std::uint64_t events, std::uint64_t seats,
              std::uint64_t users, std::uint64_t days) {
  open_sqlite_store(path, true);  // schema, indexes, rollups
  {
    seatlock::sql::Db db(path);
    db.exec("PRAGMA journal_mode=OFF");
    db.exec("PRAGMA synchronous=OFF");
    db.exec("PRAGMA cache_size=-262144");
    // Bulk load without indexes (a sort per index after), rollups rebuilt when reopened.
    std::vector<std::string> drop;
    {
      seatlock::sql::Stmt idx(
          db,
          "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='events' "
          "AND sql IS NOT NULL");
      while (idx.step()) drop.push_back(idx.text(0));
    }
    for (const std::string& n : drop) db.exec(("DROP INDEX " + n).c_str());
    db.exec("DROP TABLE rollup_kind; DROP TABLE rollup_seat; DROP TABLE rollup_user");
    seatlock::sql::Stmt ins(db,
                            "INSERT INTO events(rowid, id, seat_id, seq, time_ms, kind, severity, "
                            "user_name, chain_hash, prev, line, received_ms) "
                            "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)");
    std::vector<std::uint64_t> seq(seats, 0);
    std::vector<const Kind*> table;
    for (const Kind& k : kKinds)
      for (int i = 0; i < k.weight; ++i) table.push_back(&k);
    std::mt19937_64 rng(42);
    const UnixMillis start = kEnd - static_cast<UnixMillis>(days) * kDay;
    auto t0 = std::chrono::steady_clock::now();
    db.exec("BEGIN");
    char line[768];
    for (std::uint64_t i = 0; i < events; ++i) {
      std::uint64_t s = rng() % seats;
      // A seat's user: one of a few who share it (shifts).
      std::string user = "user" + std::to_string((s * 2 + rng() % 3) % users);
      const Kind& k = *table[rng() % table.size()];
      UnixMillis t =
          start + static_cast<UnixMillis>((static_cast<long double>(i) / events) * days * kDay);
      std::string seat = seat_name(s);
      std::uint64_t q = ++seq[s];
      char id[40];
      std::snprintf(id, sizeof id, "0190%012llx-bench", static_cast<unsigned long long>(i));
      int n = std::snprintf(
          line, sizeof line,
          "{\"details\":{\"dst\":\"203.0.113.%llu\",\"manufacturer\":\"Vendor%llu\",\"port\":443,"
          "\"product\":\"Stick %llu\",\"serial\":\"SN%llu\",\"vid\":\"0951\",\"pid\":\"16%02llu\"},"
          "\"id\":\"%s\",\"kind\":\"%s\",\"outcome\":\"%s\",\"prev\":\"%064llx\","
          "\"schema\":\"seatlock.event/1\",\"seat\":{\"hostname\":\"%s\",\"id\":\"%s\"},"
          "\"seq\":%llu,\"severity\":\"%s\",\"time\":\"%s\",\"user\":{\"name\":\"%s\",\"uid\":%llu}"
          "}",
          static_cast<unsigned long long>(i % 250), static_cast<unsigned long long>(i % 40),
          static_cast<unsigned long long>(i % 300), static_cast<unsigned long long>(i % 5000),
          static_cast<unsigned long long>(i % 100), id, k.kind, k.outcome,
          static_cast<unsigned long long>(i), seat.c_str(), seat.c_str(),
          static_cast<unsigned long long>(q), k.severity, format_rfc3339_ms(t).c_str(),
          user.c_str(), static_cast<unsigned long long>(1000 + s));
      char hash[72];
      std::snprintf(hash, sizeof hash, "%064llx", static_cast<unsigned long long>(i + 1));
      ins.bind(1, static_cast<std::int64_t>(i + 1)).bind(2, std::string_view(id));
      ins.bind(3, seat).bind(4, static_cast<std::int64_t>(q)).bind(5, t);
      ins.bind(6, std::string_view(k.kind)).bind(7, std::string_view(k.severity)).bind(8, user);
      ins.bind(9, std::string_view(hash)).bind(10, std::string_view("prev"));
      ins.bind(11, std::string_view(line, static_cast<std::size_t>(n))).bind(12, t);
      ins.run();
      if (i % 1'000'000 == 999'999) {
        db.exec("COMMIT");
        db.exec("BEGIN");
        std::fprintf(stderr, "  %llu events (%.0f s)\n", static_cast<unsigned long long>(i + 1),
                     std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
    }
    seatlock::sql::Stmt put(db,
                            "INSERT OR REPLACE INTO seats(seat_id, last_seq, last_received_ms, "
                            "last_event_ms, last_heartbeat_ms, prev_heartbeat_ms) "
                            "VALUES(?1, ?2, ?3, ?3, ?3, ?4)");
    for (std::uint64_t s = 0; s < seats; ++s) {
      // Every 50th seat went quiet two days ago.
      UnixMillis last = s % 50 == 7 ? kEnd - 2 * kDay : kEnd - 60'000;
      put.bind(1, seat_name(s)).bind(2, static_cast<std::int64_t>(seq[s]));
      put.bind(3, last).bind(4, last - 300'000).run();
    }
    db.exec("COMMIT");
  }
  std::fprintf(stderr, "  indexes and rollups\n");
  open_sqlite_store(path, true);
  seatlock::sql::Db db(path);
  db.exec("ANALYZE");
}

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void report(const std::string& name, std::vector<double> ms, std::size_t rows) {
  std::sort(ms.begin(), ms.end());
  auto pct = [&](double p) {
    return ms[std::min(ms.size() - 1, static_cast<std::size_t>(p * (ms.size() - 1) + 0.5))];
  };
  std::printf("%-52s p50 %8.1f ms  p95 %8.1f ms  max %8.1f ms  (%zu rows)\n", name.c_str(),
              pct(0.5), pct(0.95), ms.back(), rows);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "/tmp/sl-console-bench-10m.db";
  std::uint64_t events = 10'000'000, seats = 1000, users = 2000, days = 30, runs = 20;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::uint64_t v = k == "--db" ? 0 : std::stoull(argv[i + 1]);
    if (k == "--db")
      path = argv[i + 1];
    else if (k == "--events")
      events = v;
    else if (k == "--seats")
      seats = v;
    else if (k == "--users")
      users = v;
    else if (k == "--days")
      days = v;
    else if (k == "--runs")
      runs = v;
  }
  if (!std::filesystem::exists(path)) {
    auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "generating %llu events, %llu seats, %llu users, %llu days into %s\n",
                 static_cast<unsigned long long>(events), static_cast<unsigned long long>(seats),
                 static_cast<unsigned long long>(users), static_cast<unsigned long long>(days),
                 path.c_str());
    generate(path, events, seats, users, days);
    std::fprintf(stderr, "generated in %.0f s\n", ms_since(t0) / 1000);
  }
  auto store = open_sqlite_store(path, /*create=*/false);
  std::mt19937_64 rng(7);
  auto seat = [&] { return seat_name(rng() % seats); };
  auto user = [&] { return "user" + std::to_string(rng() % users); };
  auto day = [&] {
    UnixMillis from = kEnd - static_cast<UnixMillis>(1 + rng() % days) * kDay;
    return std::make_pair(std::to_string(from), std::to_string(from + kDay));
  };
  using Query = std::map<std::string, std::string>;
  struct Case {
    std::string name;
    std::function<Query()> make;
  };
  const std::vector<Case> cases = {
      {"events (no filter)", [] { return Query{}; }},
      {"events seat=S",
       [&] {
         return Query{{"seat", seat()}};
       }},
      {"events user=U",
       [&] {
         return Query{{"user", user()}};
       }},
      {"events kind=usb.blocked",
       [] {
         return Query{{"kind", "usb.blocked"}};
       }},
      {"events kind=net.tamper (rare)",
       [] {
         return Query{{"kind", "net.tamper"}};
       }},
      {"events severity=critical",
       [] {
         return Query{{"severity", "critical"}};
       }},
      {"events severity=high",
       [] {
         return Query{{"severity", "high"}};
       }},
      {"events seat=S kind=usb.storage_detected",
       [&] {
         return Query{{"seat", seat()}, {"kind", "usb.storage_detected"}};
       }},
      {"events user=U severity=critical",
       [&] {
         return Query{{"user", user()}, {"severity", "critical"}};
       }},
      {"events one day (from/to)",
       [&] {
         auto [f, t] = day();
         return Query{{"from", f}, {"to", t}};
       }},
      {"events one day kind=net.tamper",
       [&] {
         auto [f, t] = day();
         return Query{{"from", f}, {"to", t}, {"kind", "net.tamper"}};
       }},
      {"events outcome=allowed (post-filter)",
       [] {
         return Query{{"outcome", "allowed"}};
       }},
      {"events q=stick 7 (text)",
       [] {
         return Query{{"q", "stick 7"}};
       }},
      {"events q=no-such-text (budget stop)",
       [] {
         return Query{{"q", "no-such-text"}};
       }},
  };
  std::printf("store %s, %u runs each (random seat/user/day per run)\n", path.c_str(),
              static_cast<unsigned>(runs));
  for (const Case& c : cases) {
    std::vector<double> ms;
    std::size_t rows = 0;
    for (std::uint64_t r = 0; r < runs; ++r) {
      ApiRequest req;
      req.query = c.make();
      auto t0 = std::chrono::steady_clock::now();
      HttpResponse resp = api_events(*store, req);
      ms.push_back(ms_since(t0));
      if (resp.status != 200) std::fprintf(stderr, "%s: %s\n", c.name.c_str(), resp.body.c_str());
      rows = static_cast<std::size_t>(std::count(resp.body.begin(), resp.body.end(), '{')) - 1;
    }
    report(c.name, ms, rows);
  }
  auto time_call = [&](const std::string& name, auto&& fn) {
    std::vector<double> ms;
    for (std::uint64_t r = 0; r < runs; ++r) {
      auto t0 = std::chrono::steady_clock::now();
      HttpResponse resp = fn();
      ms.push_back(ms_since(t0));
      if (resp.status != 200) std::fprintf(stderr, "%s: %s\n", name.c_str(), resp.body.c_str());
    }
    report(name, ms, 0);
  };
  time_call("overview days=14 tz=+480", [&] {
    ApiRequest req;
    req.query = {{"days", "14"}, {"tz_offset_min", "480"}};
    return api_overview(*store, req, {}, kEnd - 3'600'000);
  });
  time_call("overview days=30 tz=-300", [&] {
    ApiRequest req;
    req.query = {{"days", "30"}, {"tz_offset_min", "-300"}};
    return api_overview(*store, req, {}, kEnd - 3'600'000);
  });
  time_call("seat id=S", [&] {
    ApiRequest req;
    req.query = {{"id", seat()}};
    return api_seat(*store, req);
  });
  time_call("seats", [&] { return api_seats(*store, ApiRequest{}); });
  time_call("person name=U", [&] {
    ApiRequest req;
    req.query = {{"name", user()}};
    return api_person(*store, req);
  });
  return 0;
}
