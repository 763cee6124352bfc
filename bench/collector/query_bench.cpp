// `seatlock-collector query` latency over a large store: one seat, one day.
// usage: collector_query_bench [--db /tmp/sl-collector-bench-10m.db] [--events 10000000] [--seats
// 1000] [--days 10] The database is generated directly (valid chained events, same schema as serve)
// when the file does not exist yet; generation takes minutes, so the file is kept for later runs.
#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "core/util/time.hpp"
#include "os/sqlite/sqlite.hpp"
#include "sqlite_store.hpp"

using namespace seatlock;
using namespace seatlock::collector;

namespace {

const UnixMillis kStart = *parse_rfc3339("2026-11-01T00:00:00Z");
constexpr UnixMillis kDay = 86'400'000;

// Canonical bytes of the generated event, written directly (keys in byte order) so ten million
// lines do not go through a JSON library; checked against canonical_bytes() for the first ones.
std::string bench_line(const Event& e, std::uint64_t i) {
  char buf[1024];
  int n = std::snprintf(
      buf, sizeof buf,
      "{\"details\":{\"count\":%llu,\"dst\":\"203.0.113.%llu\",\"port\":443},\"id\":\"%s\","
      "\"kind\":\"%s\","
      "\"mode\":\"enforce\",\"outcome\":\"blocked\",\"policy\":{\"rule\":\"bench\"},\"prev\":\"%"
      "s\","
      "\"schema\":\"seatlock.event/1\",\"seat\":{\"hostname\":\"%s\",\"id\":\"%s\"},\"seq\":%llu,"
      "\"severity\":\"%s\",\"time\":\"%s\",\"user\":{\"name\":\"%s\",\"uid\":%lld}}",
      static_cast<unsigned long long>(i % 17), static_cast<unsigned long long>(i % 250),
      e.id.c_str(), e.kind.c_str(), e.prev.c_str(), e.hostname.c_str(), e.seat_id.c_str(),
      static_cast<unsigned long long>(e.seq), e.severity.c_str(), format_rfc3339_ms(e.time).c_str(),
      e.user->name.c_str(), static_cast<long long>(e.user->uid));
  return std::string(buf, static_cast<size_t>(n));
}

void generate(const std::string& path, std::uint64_t events, std::uint64_t seats,
              std::uint64_t days) {
  open_sqlite_store(path, true);  // schema
  seatlock::sql::Db db(path);
  db.exec("PRAGMA journal_mode=OFF");
  db.exec("PRAGMA synchronous=OFF");
  db.exec("PRAGMA cache_size=-262144");
  // Bulk load first, indexes after (a sort per index instead of ten million B-tree inserts).
  db.exec("DROP INDEX events_seat_seq; DROP INDEX events_seat_time; DROP INDEX events_time");
  seatlock::sql::Stmt ins(
      db,
      "INSERT INTO events(rowid, id, seat_id, seq, time_ms, kind, severity, user_name, "
      "chain_hash, prev, "
      "line, received_ms) VALUES(?12,?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)");
  std::vector<std::string> last(seats, kGenesisPrev);
  std::vector<std::uint64_t> seq(seats, 0);
  const char* kinds[] = {"usb.blocked", "net.egress_denied", "agent.heartbeat", "policy.applied"};
  const char* sev[] = {"high", "medium", "info", "info"};
  UnixMillis span = static_cast<UnixMillis>(days) * kDay;
  std::mt19937_64 rng(42);
  auto t0 = std::chrono::steady_clock::now();
  db.exec("BEGIN");
  for (std::uint64_t i = 0; i < events; ++i) {
    // Round-robin over seats, time advancing evenly: every seat has events every day.
    std::uint64_t s = i % seats;
    UnixMillis t = kStart + static_cast<UnixMillis>((static_cast<long double>(i) / events) * span);
    unsigned char rnd[10];
    std::uint64_t r1 = rng(), r2 = rng();
    std::memcpy(rnd, &r1, 8);
    std::memcpy(rnd + 8, &r2, 2);
    Event e;
    e.id = make_uuid_v7(t, rnd);
    e.seq = ++seq[s];
    e.time = t;
    char id[32];
    std::snprintf(id, sizeof id, "seat-%04llu", static_cast<unsigned long long>(s));
    e.seat_id = id;
    e.hostname = e.seat_id;
    e.user = UserRef{"user" + std::to_string(s % 97), 1000 + static_cast<std::int64_t>(s % 97)};
    int k = static_cast<int>(i % 4);
    e.kind = kinds[k];
    e.severity = sev[k];
    e.prev = last[s];
    std::string line = bench_line(e, i);
    if (i < 1000) {
      e.outcome = "blocked";
      e.mode = "enforce";
      e.rule = "bench";
      e.details = {
          {"dst", "203.0.113." + std::to_string(i % 250)}, {"port", 443}, {"count", i % 17}};
      if (line != canonical_bytes(e))
        throw std::runtime_error("bench line is not canonical: " + line);
    }
    last[s] = sha256_hex(line);
    ins.bind(1, e.id)
        .bind(2, e.seat_id)
        .bind(3, static_cast<std::int64_t>(e.seq))
        .bind(4, e.time)
        .bind(5, e.kind);
    ins.bind(6, e.severity)
        .bind(7, e.user->name)
        .bind(8, last[s])
        .bind(9, e.prev)
        .bind(10, line)
        .bind(11, t);
    ins.bind(12, static_cast<std::int64_t>(i + 1));
    ins.run();
    if (i % 500000 == 499999) {
      db.exec("COMMIT");
      db.exec("BEGIN");
      double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "  generated %llu events (%.0f s)\n",
                   static_cast<unsigned long long>(i + 1), el);
    }
  }
  db.exec("COMMIT");
  std::fprintf(stderr, "  building indexes\n");
  db.exec("CREATE INDEX events_seat_seq ON events(seat_id, seq)");
  db.exec("CREATE INDEX events_seat_time ON events(seat_id, time_ms)");
  db.exec("CREATE INDEX events_time ON events(time_ms)");
  seatlock::sql::Stmt put(
      db, "INSERT OR REPLACE INTO seats(seat_id, last_seq, last_hash) VALUES(?1, ?2, ?3)");
  for (std::uint64_t s = 0; s < seats; ++s) {
    char id[32];
    std::snprintf(id, sizeof id, "seat-%04llu", static_cast<unsigned long long>(s));
    put.bind(1, std::string(id)).bind(2, static_cast<std::int64_t>(seq[s])).bind(3, last[s]).run();
  }
  db.exec("ANALYZE");
}

// Drops the database's pages from the page cache (only this file's), so the next query reads
// from disk as after a reboot or on a store much larger than RAM.
void evict(const std::string& path) {
  for (const std::string& f : {path, path + "-wal"}) {
    int fd = ::open(f.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
}

double run_query(const std::string& cmd, std::size_t& rows) {
  auto t0 = std::chrono::steady_clock::now();
  FILE* f = popen(cmd.c_str(), "r");
  char buf[65536];
  size_t n;
  rows = 0;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    rows += static_cast<std::size_t>(std::count(buf, buf + n, '\n'));
  pclose(f);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::string path = "/tmp/sl-collector-bench-10m.db";
  std::uint64_t events = 10'000'000, seats = 1000, days = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--db")
      path = argv[i + 1];
    else if (k == "--events")
      events = std::stoull(argv[i + 1]);
    else if (k == "--seats")
      seats = std::stoull(argv[i + 1]);
    else if (k == "--days")
      days = std::stoull(argv[i + 1]);
  }
  if (!std::filesystem::exists(path)) {
    auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "generating %llu events for %llu seats over %llu days into %s\n",
                 static_cast<unsigned long long>(events), static_cast<unsigned long long>(seats),
                 static_cast<unsigned long long>(days), path.c_str());
    generate(path, events, seats, days);
    std::fprintf(stderr, "generated in %.0f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::string bin = std::string(SEATLOCK_BINARY_DIR) + "/collector/seatlock-collector";
  {
    seatlock::sql::Db db(path, seatlock::sql::Db::Open::ReadOnly);
    seatlock::sql::Stmt plan(
        db,
        "EXPLAIN QUERY PLAN SELECT id FROM events WHERE 1=1 AND seat_id = ?1 AND "
        "time_ms >= ?2 AND time_ms < ?3 ORDER BY time_ms, rowid");
    while (plan.step()) std::printf("query plan: %s\n", plan.text(3).c_str());
  }
  std::size_t rows = 0;
  for (bool cold : {false, true}) {
    std::vector<double> ms;
    for (int i = 0; i < 9; ++i) {
      // A different seat and day each time, so the page cache is not just replaying one query.
      char cmd[512];
      std::snprintf(
          cmd, sizeof cmd,
          "%s query --db %s --seat seat-%04d --since 2026-11-%02d --until 2026-11-%02d --json",
          bin.c_str(), path.c_str(), (i * 137 + (cold ? 11 : 0)) % static_cast<int>(seats),
          2 + i % 8, 3 + i % 8);
      if (cold) evict(path);
      ms.push_back(run_query(cmd, rows));
      std::fprintf(stderr, "  %s run %d: %.1f ms, %zu events\n", cold ? "cold" : "warm", i + 1,
                   ms.back(), rows);
    }
    std::sort(ms.begin(), ms.end());
    std::printf(
        "collector query over %s (%.1f GiB): one seat, one day (~%zu events returned, NDJSON)\n",
        path.c_str(), std::filesystem::file_size(path) / 1073741824.0, rows);
    std::printf(
        "  %s: whole `seatlock-collector query` process: median %.1f ms, min %.1f ms, max %.1f "
        "ms (9 runs)\n",
        cold ? "cold (file evicted from the page cache before each run)" : "warm page cache",
        ms[ms.size() / 2], ms.front(), ms.back());
  }
  return 0;
}
