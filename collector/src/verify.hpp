#pragma once
// Re-checks what the store holds for one seat: every stored line is re-parsed and re-hashed,
// indexed columns must match the line, prev links and seq continuity, and every signed chain
// head is verified with the seat's pinned key and matched to the stored event it names.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store.hpp"

namespace seatlock::collector {

struct Problem {
  std::uint64_t seq_from = 0, seq_to = 0;
  std::string what;  // "missing", "altered", "duplicate", "signature"
  std::string detail;
};

struct SeatVerification {
  std::string seat_id;
  std::uint64_t events = 0, first_seq = 0, last_seq = 0, heads_checked = 0;
  std::vector<Problem> problems;  // ordered by seq
};

SeatVerification verify_seat(EventStore& store, const SeatRecord& seat,
                             std::optional<std::int64_t> since_ms,
                             std::optional<std::int64_t> until_ms);

}  // namespace seatlock::collector
