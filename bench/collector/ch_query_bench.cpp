// `seatlock-collector query --store clickhouse:...` latency over 10 million events: one seat,
// one day. The ClickHouse counterpart of collector_query_bench (same generated lines: valid
// chained canonical events, round-robin over seats, time advancing evenly).
// usage: collector_ch_query_bench [--store clickhouse|clickhouse:URL] [--events 10000000]
//                                 [--seats 1000] [--days 10]
// --store clickhouse (default) starts a clickhouse-server of its own (config in a temp
// directory) and generates the table there; with clickhouse:URL the database named in the URL
// is used and generated only when its events table is empty: to compare two builds on the same
// data, start a clickhouse-server yourself (log_queries=1 in its profile for the server-side
// figures) and pass its URL to both runs.
#include <openssl/rand.h>
#include <stdlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.hpp"
#include "clickhouse_http.hpp"
#include "core/event/event.hpp"
#include "core/util/digest.hpp"
#include "core/util/time.hpp"

using namespace seatlock;
using namespace seatlock::collector;

namespace {

const UnixMillis kStart = *parse_rfc3339("2026-11-01T00:00:00Z");
constexpr UnixMillis kDay = 86'400'000;

// Canonical bytes of the generated event, written directly (keys in byte order); checked
// against canonical_bytes() for the first ones. Same lines as collector_query_bench.
std::string bench_line(const Event& e, std::uint64_t i) {
  char buf[1024];
  int n = std::snprintf(
      buf, sizeof buf,
      "{\"details\":{\"count\":%llu,\"dst\":\"203.0.113.%llu\",\"port\":443},\"id\":\"%s\","
      "\"kind\":\"%s\",\"mode\":\"enforce\",\"outcome\":\"blocked\",\"policy\":{\"rule\":"
      "\"bench\"},\"prev\":\"%s\",\"schema\":\"seatlock.event/1\",\"seat\":{\"hostname\":\"%s\","
      "\"id\":\"%s\"},\"seq\":%llu,\"severity\":\"%s\",\"time\":\"%s\",\"user\":{\"name\":\"%s\","
      "\"uid\":%lld}}",
      static_cast<unsigned long long>(i % 17), static_cast<unsigned long long>(i % 250),
      e.id.c_str(), e.kind.c_str(), e.prev.c_str(), e.hostname.c_str(), e.seat_id.c_str(),
      static_cast<unsigned long long>(e.seq), e.severity.c_str(), format_rfc3339_ms(e.time).c_str(),
      e.user->name.c_str(), static_cast<long long>(e.user->uid));
  return std::string(buf, static_cast<size_t>(n));
}

// TabSeparated field escaping (the generated values hold none of these; kept exact anyway).
void tsv(std::string& out, const std::string& v) {
  for (char c : v) {
    if (c == '\\' || c == '\t' || c == '\n') {
      out += '\\';
      out += c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
    } else {
      out += c;
    }
  }
}

void generate(const ClickHouseHttp& ch, std::uint64_t events, std::uint64_t seats,
              std::uint64_t days) {
  std::vector<std::string> last(seats, kGenesisPrev);
  std::vector<std::uint64_t> seq(seats, 0);
  const char* kinds[] = {"usb.blocked", "net.egress_denied", "agent.heartbeat", "policy.applied"};
  const char* sev[] = {"high", "medium", "info", "info"};
  UnixMillis span = static_cast<UnixMillis>(days) * kDay;
  std::mt19937_64 rng(42);
  auto t0 = std::chrono::steady_clock::now();
  const std::string into =
      "events (id, seat_id, seq, time_ms, kind, severity, user_name, chain_hash, prev, line, "
      "received_ms)";
  std::string rows;
  for (std::uint64_t i = 0; i < events; ++i) {
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
    for (const std::string* f : {&e.id, &e.seat_id}) {
      tsv(rows, *f);
      rows += '\t';
    }
    rows +=
        std::to_string(e.seq) + '\t' + std::to_string(t) + '\t' + e.kind + '\t' + e.severity + '\t';
    tsv(rows, e.user->name);
    rows += '\t' + last[s] + '\t' + e.prev + '\t';
    tsv(rows, line);
    rows += '\t' + std::to_string(t) + '\n';
    // Large inserts: few parts for the server to merge.
    if (rows.size() > (256u << 20) || i + 1 == events) {
      ch.insert_rows(into, "TabSeparated", rows);
      rows.clear();
      double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      std::fprintf(stderr, "  inserted %llu events (%.0f s)\n",
                   static_cast<unsigned long long>(i + 1), el);
    }
  }
  // The seats' marks, as serve writes them.
  for (std::uint64_t s = 0; s < seats; ++s) {
    char id[32];
    std::snprintf(id, sizeof id, "seat-%04llu", static_cast<unsigned long long>(s));
    rows += std::string(id) + '\t' + std::to_string(seq[s]) + '\t' + last[s] + '\n';
  }
  ch.insert_rows("seat_marks (seat_id, last_seq, last_hash)", "TabSeparated", rows);
  ch.exec("OPTIMIZE TABLE events");  // merges what it can, as a long-running table would be
}

// The server's clock (seconds), then a pause into the next second: query_log times have
// one-second resolution, so the queries after this mark are told apart from earlier runs'.
std::string query_log_mark(const ClickHouseHttp& ch) {
  std::string now = ch.select_all("SELECT toUInt32(now())", false).at(0).at(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  return now;
}

// The server's side of the event queries since `mark` from system.query_log (empty if the
// server does not log queries): median duration, rows and bytes read.
std::string server_side(const ClickHouseHttp& ch, const std::string& mark) {
  try {
    ch.exec("SYSTEM FLUSH LOGS", false);
    auto r = ch.select_all(
        "SELECT quantileExact(0.5)(d), min(d), max(d), avg(rr), avg(rb), any(final), count() "
        "FROM (SELECT query_duration_ms AS d, read_rows AS rr, read_bytes AS rb, "
        "position(query, ' FINAL ') > 0 AS final FROM system.query_log WHERE type = 2 AND "
        "query LIKE 'SELECT id, seat_id%' AND query_start_time > toDateTime(" +
            mark + "))",
        false);
    if (r.empty() || r[0].at(3) == "nan") return "";
    char buf[256];
    std::snprintf(buf, sizeof buf,
                  "  server side (query_log, %s queries%s): median %s ms, min %s ms, max %s ms, "
                  "%.0f rows and %.2f MiB read per query\n",
                  r[0].at(6).c_str(), r[0].at(5) == "1" ? ", FINAL" : "", r[0].at(0).c_str(),
                  r[0].at(1).c_str(), r[0].at(2).c_str(), std::stod(r[0].at(3)),
                  std::stod(r[0].at(4)) / 1048576.0);
    return buf;
  } catch (const std::exception&) {
    return "";  // no query_log on this server
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
  std::string store_option = "clickhouse";
  std::uint64_t events = 10'000'000, seats = 1000, days = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--store")
      store_option = argv[i + 1];
    else if (k == "--events")
      events = std::stoull(argv[i + 1]);
    else if (k == "--seats")
      seats = std::stoull(argv[i + 1]);
    else if (k == "--days")
      days = std::stoull(argv[i + 1]);
  }
  if (store_option.rfind("clickhouse", 0) != 0) {
    std::fprintf(stderr, "--store: clickhouse or clickhouse:URL\n");
    return 2;
  }
  setenv("SEATLOCK_CLICKHOUSE_LOG_QUERIES", "1", 1);  // read_rows per query, below
  seatlock::testing::TempDir dir;
  seatlock::bench::BenchStore store(store_option, dir);
  ClickHouseHttp ch(parse_clickhouse_url(store.spec().substr(11)));
  if (ch.select_all("SELECT count() FROM events").at(0).at(0) == "0") {
    auto t0 = std::chrono::steady_clock::now();
    std::fprintf(stderr, "generating %llu events for %llu seats over %llu days\n",
                 static_cast<unsigned long long>(events), static_cast<unsigned long long>(seats),
                 static_cast<unsigned long long>(days));
    generate(ch, events, seats, days);
    std::fprintf(stderr, "generated in %.0f s\n",
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  auto size = ch.select_all(
      "SELECT count(), sum(rows), sum(bytes) FROM system.parts WHERE active AND database = " +
      ch_quote(ch.endpoint().database) + " AND table = 'events'");
  std::string bin = std::string(SEATLOCK_BINARY_DIR) + "/collector/seatlock-collector";
  const std::string mark = query_log_mark(ch);
  std::vector<double> ms;
  std::size_t rows = 0;
  for (int i = 0; i < 9; ++i) {
    char cmd[768];
    std::snprintf(cmd, sizeof cmd,
                  "%s query --store '%s' --seat seat-%04d --since 2026-11-%02d --until "
                  "2026-11-%02d --json",
                  bin.c_str(), store.spec().c_str(), (i * 137) % static_cast<int>(seats), 2 + i % 8,
                  3 + i % 8);
    ms.push_back(run_query(cmd, rows));
    std::fprintf(stderr, "  run %d: %.1f ms, %zu events\n", i + 1, ms.back(), rows);
  }
  std::sort(ms.begin(), ms.end());
  std::printf(
      "collector query over ClickHouse %s: %s events in %s active parts (%.2f GiB compressed); "
      "one seat, one day (~%zu events returned, NDJSON)\n",
      store.describe().c_str(), size.at(0).at(1).c_str(), size.at(0).at(0).c_str(),
      std::stod(size.at(0).at(2)) / 1073741824.0, rows);
  std::printf(
      "  whole `seatlock-collector query` process: median %.1f ms, min %.1f ms, max %.1f ms "
      "(9 runs)\n",
      ms[ms.size() / 2], ms.front(), ms.back());
  std::printf("  load average: %s\n", seatlock::bench::load_average().c_str());
  std::printf("%s", server_side(ch, mark).c_str());
  std::string log = store.query_log_summary();
  if (!log.empty()) std::printf("  clickhouse query_log (server side):\n%s", log.c_str());
  return 0;
}
