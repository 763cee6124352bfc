#pragma once
// The collector's SQLite layout: the schema, the column lists the queries select, and the
// readers that turn one selected row into the store's records (sqlite_store.cpp uses them).
#include <cstdint>

#include "os/sqlite/sqlite.hpp"
#include "store.hpp"

namespace seatlock::collector::sqlite_schema {

extern const char* const kSchema;
extern const char* const kEventCols;    // read_event's columns, in order
extern const char* const kSeatCols;     // read_seat's
extern const char* const kFindingCols;  // read_finding's

StoredEvent read_event(const sql::Stmt& s);
SeatRecord read_seat(const sql::Stmt& s);
Finding read_finding(const sql::Stmt& s);

// seq values are unsigned in the records and signed in SQLite.
inline std::int64_t as_i64(std::uint64_t v) {
  return static_cast<std::int64_t>(v);
}

}  // namespace seatlock::collector::sqlite_schema
