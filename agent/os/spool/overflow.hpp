#pragma once
// Space reclamation when the spool would exceed its bound (policy report.spool_max).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "os/spool/sqlite.hpp"

namespace seatlock::spool_detail {

struct Reclaimed {
  std::uint64_t bytes = 0;          // freed in total
  std::uint64_t delivered = 0;      // delivered rows removed (not a loss: the collector has them)
  std::vector<std::uint64_t> lost;  // seqs of queued/quarantined rows removed, ascending
  std::uint64_t lost_violations = 0;
  // Ranges recorded by spool.overflow rows that were themselves removed: carried forward into
  // the new record so no loss ever goes unrecorded.
  std::vector<std::pair<std::uint64_t, std::uint64_t>> carried;
  std::uint64_t carried_violations = 0;
};

// Deletes rows until at least `need` bytes are freed: delivered rows first (oldest first),
// then queued/quarantined rows with keep = 0 (oldest first), and only then rows with
// keep = 1. Runs inside the caller's transaction.
Reclaimed reclaim(sql::Db& db, std::uint64_t need);

// [{"first":a,"last":b},...]: the lost seqs plus the carried ranges, sorted, adjacent and
// overlapping ranges merged. `count` receives the number of seqs covered.
nlohmann::json lost_ranges(const Reclaimed& r, std::uint64_t& count);

}  // namespace seatlock::spool_detail
