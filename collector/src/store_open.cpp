#include "store_open.hpp"

#include <filesystem>
#include <stdexcept>

#include "clickhouse_store.hpp"
#include "sqlite_store.hpp"

namespace seatlock::collector {
namespace {

const std::string kSqlite = "sqlite:";
const std::string kClickHouse = "clickhouse:";

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

}  // namespace

std::set<std::string> store_option_names() {
  return {"db", "store", "clickhouse-user", "clickhouse-password-file"};
}

std::string store_spec(const ArgParser& a) {
  auto db = a.get("db"), store = a.get("store");
  if (db && store)
    throw UsageError("give --store or --db, not both (--db PATH = --store sqlite:PATH)");
  if (!db && !store)
    throw UsageError(
        "--store (sqlite:PATH or clickhouse:http://HOST:PORT) or --db PATH is required");
  std::string spec = db ? kSqlite : *store;
  if (db) spec.append(*db);
  if (starts_with(spec, kSqlite)) {
    if (spec.size() == kSqlite.size()) throw UsageError("--store sqlite: needs a path");
    if (a.get("clickhouse-user") || a.get("clickhouse-password-file"))
      throw UsageError("--clickhouse-user and --clickhouse-password-file need a clickhouse: store");
    return spec;
  }
  if (!starts_with(spec, kClickHouse))
    throw UsageError(
        "--store: expected sqlite:PATH or clickhouse:http://HOST:PORT[/?database=NAME], got \"" +
        spec + "\"");
  auto add_param = [&](const std::string& kv) {
    spec.append(spec.find('?') == std::string::npos ? "/?" : "&").append(kv);
  };
  if (auto u = a.get("clickhouse-user")) add_param("user=" + *u);
  if (auto p = a.get("clickhouse-password-file")) add_param("password_file=" + *p);
  try {
    parse_clickhouse_url(spec.substr(kClickHouse.size()));
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--store: ") + e.what());
  }
  return spec;
}

std::unique_ptr<EventStore> open_store(const std::string& spec, bool create, bool serving) {
  if (starts_with(spec, kClickHouse))
    return open_clickhouse_store(parse_clickhouse_url(spec.substr(kClickHouse.size())), create);
  std::string path = starts_with(spec, kSqlite) ? spec.substr(kSqlite.size()) : spec;
  return open_sqlite_store(path, create, serving);
}

std::string describe_store(const std::string& spec) {
  if (starts_with(spec, kClickHouse)) {
    auto ep = parse_clickhouse_url(spec.substr(kClickHouse.size()));
    return "clickhouse:" + ep.base_url + "/?database=" + ep.database;
  }
  std::string path = starts_with(spec, kSqlite) ? spec.substr(kSqlite.size()) : spec;
  return std::filesystem::absolute(path).string();
}

}  // namespace seatlock::collector
