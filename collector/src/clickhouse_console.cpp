#include "clickhouse_console.hpp"

#include "audit/collector_log.hpp"
#include "clickhouse_rows.hpp"
#include "clickhouse_schema.hpp"
#include "core/event/kinds.hpp"

namespace seatlock::collector::clickhouse_console {
namespace {

constexpr std::int64_t kHourMs = 3'600'000;

std::int64_t floor_to(std::int64_t t, std::int64_t unit) {
  return t >= 0 ? t - t % unit : t - (unit - 1 - (-t - 1) % unit);
}

// counts_as_violation() in SQL.
std::string violation_sql() {
  std::string in;
  for (const EventKindInfo& k : event_kind_table())
    if (k.cls == KindClass::Housekeeping) in += (in.empty() ? "" : ",") + ch_quote(k.name);
  return "severity != 'info' AND NOT startsWith(seat_id, " +
         ch_quote(audit::kCollectorChainPrefix) + ") AND kind NOT IN (" + in + ")";
}

// One copy of each event (not yet merged duplicates counted once), in the window.
std::string violations_in(std::int64_t since_ms, std::int64_t until_ms) {
  return "(SELECT seat_id, time_ms, seq, id, kind, user_name FROM events PREWHERE time_ms >= " +
         std::to_string(since_ms) + " AND time_ms < " + std::to_string(until_ms) + " AND " +
         violation_sql() + " LIMIT 1 BY seat_id, time_ms, seq, id)";
}

}  // namespace

void query_keyset(const ClickHouseHttp& ch, const EventFilter& f, bool descending,
                  const std::optional<EventStore::EventKey>& from,
                  const std::function<bool(const StoredEvent&)>& fn) {
  std::string where = " AND 1";
  if (f.seat) where += " AND seat_id = " + ch_quote(*f.seat);
  if (f.user) where += " AND user_name = " + ch_quote(*f.user);
  if (f.kind) where += " AND kind = " + ch_quote(*f.kind);
  if (f.severity) where += " AND severity = " + ch_quote(*f.severity);
  if (f.since_ms) where += " AND time_ms >= " + std::to_string(*f.since_ms);
  if (f.until_ms) where += " AND time_ms < " + std::to_string(*f.until_ms);
  const char* cmp = descending ? "<" : ">";
  if (from)
    where += std::string(" AND (time_ms, seat_id, seq) ") + cmp + " (" +
             std::to_string(from->time_ms) + ", " + ch_quote(from->seat_id) + ", " +
             std::to_string(from->seq) + ")";
  const char* dir = descending ? " DESC" : "";
  std::string sql = std::string("SELECT ") + clickhouse_schema::kEventCols +
                    " FROM events PREWHERE" + where.substr(4) + " ORDER BY time_ms" + dir +
                    ", seat_id" + dir + ", seq" + dir +
                    ", received_ms, id LIMIT 1 BY seat_id, time_ms, seq, id";
  if (f.limit) sql += " LIMIT " + std::to_string(f.limit);
  bool more = true;
  ch.select(sql, [&](const clickhouse_rows::Row& r) {
    if (more) more = fn(clickhouse_rows::event(r));  // the rest of the stream is drained unread
  });
}

std::vector<EventStore::ViolationBucket> violation_buckets(const ClickHouseHttp& ch,
                                                           std::int64_t since_ms,
                                                           std::int64_t until_ms) {
  const std::int64_t b = EventStore::kViolationBucketMs;
  std::vector<EventStore::ViolationBucket> out;
  // Buckets starting in [since, until): events from since's bucket start to until's.
  ch.select("SELECT intDiv(time_ms, " + std::to_string(b) + ") * " + std::to_string(b) +
                " AS bucket, kind, count() FROM " +
                violations_in(floor_to(since_ms, b), floor_to(until_ms + b - 1, b)) +
                " GROUP BY bucket, kind HAVING bucket >= " + std::to_string(since_ms) +
                " AND bucket < " + std::to_string(until_ms) + " ORDER BY bucket, kind",
            [&](const clickhouse_rows::Row& r) {
              out.push_back({std::stoll(r[0]), r[1], std::stoull(r[2])});
            });
  return out;
}

std::vector<EventStore::ViolationTotal> top_violators(const ClickHouseHttp& ch, bool by_user,
                                                      std::int64_t since_ms, std::int64_t until_ms,
                                                      std::size_t limit) {
  const char* col = by_user ? "user_name" : "seat_id";
  std::vector<EventStore::ViolationTotal> out;
  ch.select(std::string("SELECT ") + col + " AS name, count() AS n FROM " +
                violations_in(floor_to(since_ms, kHourMs), floor_to(until_ms, kHourMs)) +
                (by_user ? " WHERE user_name != ''" : "") +
                " GROUP BY name ORDER BY n DESC, name LIMIT " + std::to_string(limit),
            [&](const clickhouse_rows::Row& r) {
              out.push_back({r[0], std::stoull(r[1])});
            });
  return out;
}

}  // namespace seatlock::collector::clickhouse_console
