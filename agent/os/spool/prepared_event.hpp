#pragma once
// An event made ready for the spool on the producer's thread, before it queues: id and time
// filled, and its canonical bytes written with holes where prev and seq go (those are known only
// inside the commit, from the chain head). Filling the holes is three copies, so what the single
// committer does per event is that, the chain hash and the INSERT.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/event/event.hpp"

namespace seatlock::spool_detail {

struct PreparedEvent {
  std::string text;         // canonical bytes of the event with prev "" and seq 0
  std::size_t prev_at = 0;  // where prev's hex goes: just after `"prev":"`
  std::size_t seq_at = 0;   // the '0' after `"seq":`, replaced by the seq's digits
  bool keep = false;        // violation or spool notice: dropped only as a last resort

  // Exactly canonical_bytes(e) once e.prev = prev and e.seq = seq, written into `text` itself
  // (no copy, no allocation: prepare_event reserved the room). Once only: afterwards `text` is
  // the body.
  const std::string& fill(std::string_view prev, std::uint64_t seq);
};

// Fills e.id (UUIDv7) and e.time when they are empty, clears seq and prev, and writes the
// template. Throws nlohmann::json::exception when the event cannot be serialised (a string that
// is not UTF-8).
PreparedEvent prepare_event(Event& e, UnixMillis now);

// A fresh UUIDv7 for an event recorded at `now`.
std::string fresh_event_id(UnixMillis now);

}  // namespace seatlock::spool_detail
