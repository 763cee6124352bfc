#include "sqlite_console.hpp"

#include <string>

#include "audit/collector_log.hpp"
#include "core/event/kinds.hpp"
#include "sqlite_schema.hpp"

namespace seatlock::collector::sqlite_console {
namespace {

using sqlite_schema::as_i64;
using sqlite_schema::kEventCols;
using sqlite_schema::read_event;

constexpr std::int64_t kHourMs = 3'600'000;

// One index per console filter column, each with time so that "newest first" reads the index
// backwards. (seat_id, time_ms) and (time_ms) are in the base schema.
const char* const kIndexes = R"SQL(
CREATE INDEX IF NOT EXISTS events_user_time ON events(user_name, time_ms);
CREATE INDEX IF NOT EXISTS events_kind_time ON events(kind, time_ms);
CREATE INDEX IF NOT EXISTS events_severity_time ON events(severity, time_ms);
)SQL";

// Violation counts: per 15 minutes and kind (the overview's chart, in any viewer's time zone
// down to quarter hours), per hour and seat, per hour and user (its top lists).
const char* const kRollups = R"SQL(
CREATE TABLE IF NOT EXISTS rollup_kind(
  bucket_ms INTEGER NOT NULL, kind TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY(bucket_ms, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_seat(
  hour_ms INTEGER NOT NULL, seat_id TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY(hour_ms, seat_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_user(
  hour_ms INTEGER NOT NULL, user_name TEXT NOT NULL, count INTEGER NOT NULL,
  PRIMARY KEY(hour_ms, user_name)) WITHOUT ROWID;
)SQL";

// SQL for counts_as_violation() over the events table.
std::string violation_sql() {
  std::string in;
  for (const EventKindInfo& k : event_kind_table())
    if (k.cls == KindClass::Housekeeping) in += std::string(in.empty() ? "'" : ",'") + k.name + "'";
  return std::string("severity <> 'info' AND seat_id NOT LIKE '") + audit::kCollectorChainPrefix +
         "%' AND kind NOT IN (" + in + ")";
}

std::string floor_sql(const char* col, std::int64_t unit) {
  // time_ms is positive for any real event; integer division floors there.
  std::string u = std::to_string(unit);
  return std::string("(") + col + " / " + u + ") * " + u;
}

std::int64_t floor_to(std::int64_t t, std::int64_t unit) {
  return t >= 0 ? t - t % unit : t - (unit - 1 - (-t - 1) % unit);
}

}  // namespace

void ensure_schema(sql::Db& db) {
  sql::Stmt check(db, "SELECT count(*) FROM sqlite_master WHERE name='rollup_kind'");
  bool had_rollups = check.step() && check.i64(0) > 0;
  db.exec(kIndexes);
  if (had_rollups) return;
  db.exec("BEGIN IMMEDIATE");
  try {
    db.exec(kRollups);
    std::string v = violation_sql();
    db.exec(("INSERT INTO rollup_kind SELECT " +
             floor_sql("time_ms", EventStore::kViolationBucketMs) +
             " AS b, kind, count(*) FROM events WHERE " + v + " GROUP BY b, kind")
                .c_str());
    db.exec(("INSERT INTO rollup_seat SELECT " + floor_sql("time_ms", kHourMs) +
             " AS h, seat_id, count(*) FROM events WHERE " + v + " GROUP BY h, seat_id")
                .c_str());
    db.exec(("INSERT INTO rollup_user SELECT " + floor_sql("time_ms", kHourMs) +
             " AS h, user_name, count(*) FROM events WHERE user_name <> '' AND " + v +
             " GROUP BY h, user_name")
                .c_str());
    db.exec("COMMIT");
  } catch (...) {
    db.exec("ROLLBACK");
    throw;
  }
}

void RollupWriter::add(const StoredEvent& e) {
  if (!counts_as_violation(e.seat_id, e.kind, e.severity)) return;
  auto prepare = [&](std::unique_ptr<sql::Stmt>& slot, const char* sql) -> sql::Stmt& {
    if (!slot) slot = std::make_unique<sql::Stmt>(db_, sql);
    return *slot;
  };
  prepare(kind_,
          "INSERT INTO rollup_kind(bucket_ms, kind, count) VALUES(?1, ?2, 1) "
          "ON CONFLICT(bucket_ms, kind) DO UPDATE SET count = count + 1")
      .bind(1, floor_to(e.time_ms, EventStore::kViolationBucketMs))
      .bind_static(2, e.kind)
      .run();
  std::int64_t hour = floor_to(e.time_ms, kHourMs);
  prepare(seat_,
          "INSERT INTO rollup_seat(hour_ms, seat_id, count) VALUES(?1, ?2, 1) "
          "ON CONFLICT(hour_ms, seat_id) DO UPDATE SET count = count + 1")
      .bind(1, hour)
      .bind_static(2, e.seat_id)
      .run();
  if (!e.user_name.empty())
    prepare(user_,
            "INSERT INTO rollup_user(hour_ms, user_name, count) VALUES(?1, ?2, 1) "
            "ON CONFLICT(hour_ms, user_name) DO UPDATE SET count = count + 1")
        .bind(1, hour)
        .bind_static(2, e.user_name)
        .run();
}

void query_keyset(sql::Db& db, const EventFilter& f, bool descending,
                  const std::optional<EventStore::EventKey>& from,
                  const std::function<bool(const StoredEvent&)>& fn) {
  std::string sql = std::string("SELECT ") + kEventCols + " FROM events WHERE 1=1";
  if (f.seat) sql += " AND seat_id = ?1";
  if (f.user) sql += " AND user_name = ?2";
  if (f.kind) sql += " AND kind = ?3";
  if (f.severity) sql += " AND severity = ?4";
  if (f.since_ms) sql += " AND time_ms >= ?5";
  if (f.until_ms) sql += " AND time_ms < ?6";
  // Keyset: strictly after `from` in the order; the plain time bound lets the index range start
  // there.
  const char* cmp = descending ? "<" : ">";
  if (from)
    sql += std::string(" AND time_ms ") + cmp + "= ?7 AND (time_ms " + cmp + " ?7 OR seat_id " +
           cmp + " ?8 OR (seat_id = ?8 AND seq " + cmp + " ?9))";
  sql += descending ? " ORDER BY time_ms DESC, seat_id DESC, seq DESC"
                    : " ORDER BY time_ms, seat_id, seq";
  if (f.limit) sql += " LIMIT " + std::to_string(f.limit);
  sql::Stmt st(db, sql.c_str());
  if (f.seat) st.bind(1, *f.seat);
  if (f.user) st.bind(2, *f.user);
  if (f.kind) st.bind(3, *f.kind);
  if (f.severity) st.bind(4, *f.severity);
  if (f.since_ms) st.bind(5, *f.since_ms);
  if (f.until_ms) st.bind(6, *f.until_ms);
  if (from) st.bind(7, from->time_ms).bind(8, from->seat_id).bind(9, as_i64(from->seq));
  while (st.step())
    if (!fn(read_event(st))) break;
}

std::vector<EventStore::ViolationBucket> violation_buckets(sql::Db& db, std::int64_t since_ms,
                                                           std::int64_t until_ms) {
  sql::Stmt st(db,
               "SELECT bucket_ms, kind, count FROM rollup_kind WHERE bucket_ms >= ?1 AND "
               "bucket_ms < ?2 ORDER BY bucket_ms, kind");
  st.bind(1, since_ms).bind(2, until_ms);
  std::vector<EventStore::ViolationBucket> out;
  while (st.step()) out.push_back({st.i64(0), st.text(1), static_cast<std::uint64_t>(st.i64(2))});
  return out;
}

std::vector<EventStore::ViolationTotal> top_violators(sql::Db& db, bool by_user,
                                                      std::int64_t since_ms, std::int64_t until_ms,
                                                      std::size_t limit) {
  std::string sql = by_user ? "SELECT user_name, sum(count) AS n FROM rollup_user"
                            : "SELECT seat_id, sum(count) AS n FROM rollup_seat";
  sql += " WHERE hour_ms >= ?1 AND hour_ms < ?2 GROUP BY 1 ORDER BY n DESC, 1 LIMIT ?3";
  sql::Stmt st(db, sql.c_str());
  st.bind(1, floor_to(since_ms, kHourMs))
      .bind(2, floor_to(until_ms, kHourMs))
      .bind(3, static_cast<std::int64_t>(limit));
  std::vector<EventStore::ViolationTotal> out;
  while (st.step()) out.push_back({st.text(0), static_cast<std::uint64_t>(st.i64(1))});
  return out;
}

}  // namespace seatlock::collector::sqlite_console
