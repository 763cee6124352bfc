#pragma once
// The evidence record: one JSON object per finding (schema "seatlock.event/1").
// See docs/events.md for the field list and the canonical serialisation auditors verify.
#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/util/time.hpp"

namespace seatlock {

inline constexpr const char* kEventSchema = "seatlock.event/1";
// prev of the first event of a seat.
inline constexpr const char* kGenesisPrev =
    "0000000000000000000000000000000000000000000000000000000000000000";

struct UserRef {
  std::string name;
  std::int64_t uid = -1;
  bool operator==(const UserRef&) const = default;
};

struct Event {
  std::string id;         // UUIDv7, made once when the finding happens; the dedup key end to end
  std::uint64_t seq = 0;  // per seat, gap-free; assigned by the EventSink
  UnixMillis time = 0;
  std::string seat_id;
  std::string hostname;
  std::optional<UserRef> user;
  std::string kind;      // "usb.blocked", "net.tamper", ...
  std::string severity;  // info | low | medium | high | critical
  std::string outcome;   // blocked | allowed | reported | detected | ...
  std::string mode;      // enforce | audit (of the section that decided), empty when n/a
  std::string policy_sha256;
  std::string rule;  // which policy rule decided, e.g. "usb.classes"
  nlohmann::json details = nlohmann::json::object();
  std::string prev;  // sha256 of the previous event's canonical bytes; assigned by the EventSink

  bool operator==(const Event&) const = default;
};

nlohmann::json to_json(const Event& e);

// Strict reading of an event object (the collector's ingest check). Every problem is listed as
// "<json pointer>: <what was expected>". Empty result = valid and `out` filled.
std::vector<std::string> event_from_json(const nlohmann::json& j, Event& out);

// Canonical bytes: the event's JSON with object keys sorted (byte order), no insignificant
// white space, UTF-8 kept as is, numbers as integers. It is what `prev` hashes chain over.
std::string canonical_bytes(const nlohmann::json& j);
std::string canonical_bytes(const Event& e);
// canonical_bytes(e) appended to `out` (the spool writes them into a buffer with room to spare),
// and about how long they are (for reserve()).
void append_canonical_bytes(std::string& out, const Event& e);
std::size_t canonical_size_hint(const Event& e);
// sha256 hex of canonical_bytes(e): the value the next event carries as `prev`.
std::string chain_hash(const Event& e);

// UUIDv7 from a millisecond timestamp and 10 random bytes (caller supplies the randomness, so
// core stays free of OS calls).
std::string make_uuid_v7(UnixMillis ms, const unsigned char random10[10]);
bool is_uuid(const std::string& s);

bool is_known_severity(const std::string& s);
// Whether this kind records a breach (violations are never dropped from the spool).
bool is_violation(const Event& e);

}  // namespace seatlock
