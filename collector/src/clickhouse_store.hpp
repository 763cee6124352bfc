#pragma once
// EventStore on ClickHouse (fleets: many sites, years of retention, several collector
// instances writing to one database). See clickhouse_schema.hpp for the tables and
// clickhouse_txn.hpp for how group commits map onto a store without transactions.
#include <memory>

#include "clickhouse_http.hpp"
#include "store.hpp"

namespace seatlock::collector {

// create=false: the database must already hold the seatlock tables (auditor commands never
// create an empty one).
std::unique_ptr<EventStore> open_clickhouse_store(const ClickHouseEndpoint& ep, bool create);

}  // namespace seatlock::collector
