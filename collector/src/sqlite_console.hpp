#pragma once
// The SQLite side of the console's queries (issue 15): the indexes its filters need, the
// violation rollups the overview reads (kept in the ingest transaction, so they never disagree
// with the events), and keyset paging. sqlite_store.cpp calls these.
#include <memory>
#include <optional>
#include <string_view>

#include "os/sqlite/sqlite.hpp"
#include "store.hpp"

namespace seatlock::collector::sqlite_console {

// Creates the indexes and rollup tables if missing; a rollup made now is filled from the events
// already stored (once, when an older database is first opened by this version).
void ensure_schema(sql::Db& db);

// Adds ingested events to the rollups. Lives with the writer's connection (prepared once).
class RollupWriter {
 public:
  explicit RollupWriter(sqlite3* db) : db_(db) {}
  void add(const StoredEvent& e);  // no-op for events that are not violations

 private:
  sqlite3* db_;
  std::unique_ptr<sql::Stmt> kind_, seat_, user_;
};

void query_keyset(sql::Db& db, const EventFilter& f, bool descending,
                  const std::optional<EventStore::EventKey>& from,
                  const std::function<bool(const StoredEvent&)>& fn);
std::vector<EventStore::ViolationBucket> violation_buckets(sql::Db& db, std::int64_t since_ms,
                                                           std::int64_t until_ms);
std::vector<EventStore::ViolationTotal> top_violators(sql::Db& db, bool by_user,
                                                      std::int64_t since_ms, std::int64_t until_ms,
                                                      std::size_t limit);

}  // namespace seatlock::collector::sqlite_console
