#pragma once
// Schema and read queries shared by Spool (read-write) and SpoolReader (read-only).
#include "os/spool/spool.hpp"
#include "os/spool/sqlite.hpp"

namespace seatlock::spool_detail {

void create_schema(sql::Db& db);
SpoolStats read_stats(sql::Db& db);
std::vector<SpooledEvent> query(sql::Db& db, const SpoolQuery& q);

// Columns selected by every row query, in the order read_row() expects.
inline constexpr const char* kRowColumns = "seq, id, time, seat, kind, severity, state, body, note";
SpooledEvent read_row(const sql::Stmt& st);

}  // namespace seatlock::spool_detail
