#pragma once
// The ClickHouse side of the console's queries (issue 15): keyset paging over the events and the
// overview's violation counts, as SQL (the table's columns answer GROUP BYs fast enough that no
// rollup table is kept). clickhouse_store.cpp calls these.
#include "clickhouse_http.hpp"
#include "store.hpp"

namespace seatlock::collector::clickhouse_console {

void query_keyset(const ClickHouseHttp& ch, const EventFilter& f, bool descending,
                  const std::optional<EventStore::EventKey>& from,
                  const std::function<bool(const StoredEvent&)>& fn);
std::vector<EventStore::ViolationBucket> violation_buckets(const ClickHouseHttp& ch,
                                                           std::int64_t since_ms,
                                                           std::int64_t until_ms);
std::vector<EventStore::ViolationTotal> top_violators(const ClickHouseHttp& ch, bool by_user,
                                                      std::int64_t since_ms, std::int64_t until_ms,
                                                      std::size_t limit);

}  // namespace seatlock::collector::clickhouse_console
