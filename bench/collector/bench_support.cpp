#include "bench_support.hpp"

#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "clickhouse_http.hpp"
#include "store_open.hpp"

namespace seatlock::bench {

double cpu_seconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (all.empty()) return 0;
  std::istringstream rest(all.substr(all.rfind(')') + 2));
  std::string field;
  unsigned long long ut = 0, st = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) ut = std::stoull(field);
    if (i == 15) st = std::stoull(field);
  }
  return static_cast<double>(ut + st) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long status_kb(pid_t pid, const char* field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field, 0) == 0) return std::atol(line.c_str() + std::strlen(field));
  return -1;
}

std::string load_average() {
  std::ifstream la("/proc/loadavg");
  std::string load;
  std::getline(la, load);
  return load;
}

BenchStore::BenchStore(const std::string& option, const testing::TempDir& dir) {
  if (option == "sqlite") {
    sqlite_path_ = dir / "bench.db";
    spec_ = "sqlite:" + sqlite_path_;
  } else if (option == "clickhouse") {
    server_ = std::make_unique<testing::ClickHouseServer>();
    spec_ = "clickhouse:" + server_->url() + "/?database=bench";
  } else if (option.rfind("clickhouse:", 0) == 0) {
    spec_ = option;
  } else {
    throw std::invalid_argument("--store: sqlite, clickhouse or clickhouse:URL, not \"" + option +
                                "\"");
  }
  collector::open_store(spec_, /*create=*/true);  // the schema, before any collector starts
}

void BenchStore::add_tokens(
    const std::vector<std::pair<std::string, std::string>>& hash_and_seat) const {
  if (!clickhouse()) {
    auto store = collector::open_store(spec_, false);
    for (const auto& [hash, seat] : hash_and_seat) store->add_token(hash, seat, "");
    return;
  }
  // One INSERT instead of one per seat (each INSERT is a part on the server).
  collector::ClickHouseHttp ch(collector::parse_clickhouse_url(spec_.substr(11)));
  std::string rows;
  for (const auto& [hash, seat] : hash_and_seat)
    rows +=
        nlohmann::json{{"token_hash", hash}, {"seat_id", seat}, {"created_ms", 1}}.dump() + "\n";
  ch.insert_json_rows("tokens", rows);
}

std::string BenchStore::describe() const {
  if (!clickhouse()) return "SQLite " + sqlite_path_;
  return "ClickHouse " + collector::describe_store(spec_) +
         (server_ ? " (clickhouse-server started by the bench)" : "");
}

std::string BenchStore::query_log_summary() const {
  if (!server_ || !std::getenv("SEATLOCK_CLICKHOUSE_LOG_QUERIES")) return "";
  server_->query("SYSTEM FLUSH LOGS");
  return server_->query(
      "SELECT count() AS n, sum(query_duration_ms) AS ms, sum(read_rows) AS rows, "
      "sum(read_bytes) AS bytes, substring(replaceRegexpAll(query, '[0-9]+|\\'[^\\']*\\'', "
      "'?'), 1, 110) AS q FROM system.query_log WHERE type = 2 GROUP BY q ORDER BY ms DESC "
      "LIMIT 15 FORMAT PrettyCompactMonoBlock");
}

}  // namespace seatlock::bench
