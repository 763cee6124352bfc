#pragma once
// Ingest of one POST /v1/events batch, in two steps:
//  1. parse_batch (any thread, no store access): every line through event_from_json, seat
//     ownership, ascending seq, chain-head header = last event, Ed25519 signature.
//  2. apply_batch (the single writer, inside a transaction): key pinning, dedup by id, chain
//     continuity against what is stored, findings for gaps/breaks/conflicts.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/event/event.hpp"
#include "core/json/bounded_parse.hpp"
#include "store.hpp"

namespace seatlock::collector {

// Limits for one event line: nesting is checked before a tree is built (a deeply nested
// `details` would otherwise be copied recursively on a connection thread's small stack).
inline constexpr JsonLimits kEventJsonLimits{64, 1u << 20, false};

// chain_hash of the event a received line carries (same value for ingest and verify).
std::string line_chain_hash(std::string_view line, const nlohmann::json& parsed, const Event& ev);

struct BatchHeaders {
  std::string key_b64;        // X-Seatlock-Key
  std::string chain_head;     // X-Seatlock-Chain-Head
  std::string signature_b64;  // X-Seatlock-Signature
};

struct Batch {
  std::string seat_id;
  std::vector<StoredEvent> events;  // ascending seq
  ChainHead head;
};

// An HTTP-level rejection: nothing is stored.
struct Rejection {
  int status = 400;  // 400 bad batch, 403 not this seat's events / bad signature / wrong key
  std::string message;
  int line = 0;  // 1-based line number when a line is at fault
};

// One event line the full way (nlohmann tree, event_from_json, canonical check): what
// parse_batch falls back to whenever the fast path (event_fast_path.hpp) cannot decide, and
// what words every rejection.
std::variant<StoredEvent, Rejection> read_event_line(std::string_view line, int line_no,
                                                     std::int64_t now_ms);

// '\n' bytes in `text`, with memchr: std::count compiles to a byte-at-a-time loop, which was
// ~5% of the collector's CPU (bodies are counted before parsing, refused ones included).
std::size_t count_newlines(std::string_view text);

std::variant<Batch, Rejection> parse_batch(std::string_view body, const std::string& auth_seat,
                                           const BatchHeaders& headers, std::int64_t now_ms);

struct Applied {
  std::uint64_t stored = 0, duplicates = 0, last_seq = 0;
  std::vector<Finding> findings;  // recorded for this batch
};

// Runs inside `txn`; a Rejection means the caller must roll the batch back.
std::variant<Applied, Rejection> apply_batch(StoreTxn& txn, const Batch& batch,
                                             std::int64_t now_ms);

}  // namespace seatlock::collector
