#pragma once
// The ClickHouse tables (created on first use). MergeTree family only, no experimental types,
// so the same DDL runs on ClickHouse 18.16 (Debian 12) and current releases.
//
// events: ReplacingMergeTree ORDER BY (seat_id, time_ms, seq, id). An event id always has the
//   same seat, time and seq, so copies written by two collector instances share a sorting key
//   and collapse; reads use FINAL so a copy not merged yet is never seen twice. The key starts
//   with (seat_id, time_ms) for the seat-day query; monthly partitions by event time.
//   index_granularity 1024 (default 8192): a seat's day, and the ingest lookup of a batch's
//   ids (bounded by the batch's times), read a few small granules instead of 8192-row ones.
//   Tables created before (efd790a, granularity 8192) work unchanged; docs/clickhouse.md
//   says how to recreate one with the new setting.
// Seat state is derived from stored rows (several instances write): seat_marks keeps the
// highest seq acknowledged per seat, seat_contacts the last batch time, seat_keys the pinned
// key (an enrollment key wins over the first key a seat presented).
#include "clickhouse_http.hpp"

namespace seatlock::collector::clickhouse_schema {

// Creates the database and tables if missing (idempotent; safe from several instances).
void create(const ClickHouseHttp& ch);
// true when the database holds the seatlock tables.
bool exists(const ClickHouseHttp& ch);

// Event columns in the order read_event expects.
extern const char* const kEventCols;
// CREATE TABLE IF NOT EXISTS for console accounts (also run on first use: older databases).
extern const char* const kAccountsTable;

}  // namespace seatlock::collector::clickhouse_schema
