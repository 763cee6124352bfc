#pragma once
// Reading ClickHouse result rows into store records, shared by the store and its transactions.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "clickhouse_http.hpp"
#include "store.hpp"

namespace seatlock::collector::clickhouse_rows {

using Row = std::vector<std::string>;

std::int64_t i64(const std::string& field);
std::uint64_t u64(const std::string& field);

// A row of clickhouse_schema::kEventCols.
StoredEvent event(const Row& r);
// A row of kFindingCols.
Finding finding(const Row& r);
extern const char* const kFindingCols;

// Seat records derived from what is stored (events, seat_marks, seat_contacts, seat_keys),
// ordered by seat id; only `seat` when given.
std::vector<SeatRecord> load_seats(const ClickHouseHttp& ch,
                                   const std::optional<std::string>& seat);

// What ingest needs of one seat (last seq and hash, pinned key), in one round trip; nullopt
// when nothing is stored for it.
std::optional<SeatRecord> load_seat_for_ingest(const ClickHouseHttp& ch, const std::string& seat);

// The marks and pinned keys of several seats in one round trip (group commit), by seat id; a
// seat with neither is absent. last_seq/last_hash come from seat_marks only: the caller raises
// them from the events it loaded around each batch (events stored by a commit that died before
// its marks were written are always re-sent from their first seq, so they are in that window).
// Unlike load_seat_for_ingest this never scans a seat's whole history.
std::map<std::string, SeatRecord> load_marks_and_keys(const ClickHouseHttp& ch,
                                                      const std::vector<std::string>& seats);

}  // namespace seatlock::collector::clickhouse_rows
