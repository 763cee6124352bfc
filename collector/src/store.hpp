#pragma once
// EventStore: where the collector keeps events, per-seat chain state, signed chain heads,
// findings and enrollment tokens. SQLite is the default (sqlite_store.hpp), ClickHouse the
// store for fleets (clickhouse_store.hpp); store_open.hpp picks one from --store / --db.
// Ingest logic (ingest.hpp) works on a StoreTxn.
#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace seatlock::collector {

struct StoredEvent {
  std::string id;
  std::string seat_id;
  std::uint64_t seq = 0;
  std::int64_t time_ms = 0;
  std::string kind;
  std::string severity;
  std::string user_name;   // "" when the event has no user
  std::string chain_hash;  // chain_hash() of the line, computed at ingest
  std::string prev;
  std::string line;  // the NDJSON line as received (canonical bytes)
  std::int64_t received_ms = 0;
};

struct SeatRecord {
  std::string seat_id;
  std::string pubkey_b64;  // pinned Ed25519 key ("" = none yet)
  std::int64_t first_seen_ms = 0;
  std::int64_t last_received_ms = 0;
  std::uint64_t last_seq = 0;  // highest seq stored
  std::string last_hash;       // chain hash of the event at last_seq
  std::int64_t last_event_ms = 0;
  std::string last_event_kind;
  std::int64_t last_heartbeat_ms = 0;
  std::int64_t prev_heartbeat_ms = 0;  // the heartbeat before, to estimate the interval
};

// Something wrong the collector noticed about a seat's chain while ingesting.
struct Finding {
  std::int64_t id = 0;
  std::string seat_id;
  std::uint64_t seq_from = 0, seq_to = 0;
  std::string kind;  // gap | break | conflict
  std::string detail;
  std::int64_t found_ms = 0;
  bool resolved = false;  // a gap that later arrived in full
};

struct ChainHead {
  std::string seat_id;
  std::uint64_t seq = 0;
  std::string hash;
  std::string pubkey_b64;
  std::string signature_b64;
  std::int64_t received_ms = 0;
};

// The last batch of an authenticated seat that the collector refused (403 wrong seat, 400 bad
// line, ...). Kept apart from SeatRecord: a seat whose every batch is refused has no events,
// yet `seats` must show that it is alive and why nothing arrives.
struct SeatRefusal {
  std::string seat_id;
  std::int64_t last_ms = 0;  // last refused batch = the seat's last contact when nothing arrives
  int status = 0;
  std::string reason;
  std::uint64_t count = 0;  // refused batches since the record was created
};

struct TokenRecord {
  std::string token_hash;  // sha256 hex of the token
  std::string seat_id;
  std::int64_t created_ms = 0;
  std::int64_t revoked_ms = 0;  // 0 = valid
};

// A console account (issue 15): the password only as a libsodium Argon2id string
// ("$argon2id$v=19$m=...,t=...,p=1$salt$hash"); console/password.hpp makes and checks it.
struct AccountRecord {
  std::string name;
  std::string role;  // auditor | admin
  std::string password_hash;
  bool disabled = false;
  std::int64_t created_ms = 0;
  std::int64_t updated_ms = 0;  // strictly increases with every change (ClickHouse version)
  std::string lang;             // the console language chosen ("en", "zh-CN"; "" = not yet)
};

struct EventFilter {
  std::optional<std::string> seat, user, kind, severity;
  std::optional<std::int64_t> since_ms, until_ms;  // [since, until)
  std::uint64_t limit = 0;                         // 0 = no limit
};

// One write transaction. Destroyed without commit() = rolled back.
// SQLite: a real transaction; savepoints isolate batches of one group commit.
// ClickHouse (no transactions): writes are buffered and sent by commit(), savepoints are marks
// in the buffer; reads see the stored rows plus the buffer. Either way commit() returns only
// once the store acknowledged everything, and throws otherwise (nothing may be acknowledged).
class StoreTxn {
 public:
  virtual ~StoreTxn() = default;
  // A hint before a batch is applied: a remote store loads what it needs for these events of
  // `seat` (same ids, neighbouring seqs) in one round trip. No-op for SQLite.
  virtual void prefetch(const std::string& /*seat*/, const std::vector<StoredEvent>& /*events*/) {}
  // The same hint for every batch of a group commit at once, before the first is applied: a
  // remote store loads the seats' state and these events in a few round trips per group instead
  // of a few per batch. No-op for SQLite.
  struct BatchRef {
    const std::string* seat;
    const std::vector<StoredEvent>* events;
  };
  virtual void prefetch_group(const std::vector<BatchRef>& /*batches*/) {}
  // false when an event with this id already exists (nothing written).
  virtual bool insert_event(const StoredEvent& e) = 0;
  virtual std::optional<std::string> line_by_id(const std::string& id) = 0;
  // Events of `seat` at `seq` (more than one = the seat sent two different events with one seq).
  virtual std::vector<StoredEvent> events_at(const std::string& seat, std::uint64_t seq) = 0;
  virtual std::uint64_t count_in_range(const std::string& seat, std::uint64_t from,
                                       std::uint64_t to) = 0;
  virtual std::optional<SeatRecord> seat(const std::string& seat) = 0;
  virtual void put_seat(const SeatRecord& s) = 0;
  virtual void add_finding(const Finding& f) = 0;
  virtual std::vector<Finding> open_gaps(const std::string& seat) = 0;
  virtual void resolve_finding(std::int64_t id) = 0;
  virtual void add_chain_head(const ChainHead& h) = 0;
  // Upserts the seat's refusal record (count += 1).
  virtual void note_refusal(const SeatRefusal& r) = 0;
  // Group commit: each batch runs inside a savepoint so one failing batch leaves the others.
  virtual void savepoint() = 0;
  virtual void release() = 0;
  virtual void rollback_to() = 0;
  virtual void commit() = 0;
};

class EventStore {
 public:
  virtual ~EventStore() = default;
  virtual std::unique_ptr<StoreTxn> begin() = 0;

  // Events matching `f`, ordered by time then seat and seq. Return false from `fn` to stop.
  virtual void query(const EventFilter& f, const std::function<bool(const StoredEvent&)>& fn) = 0;
  // One seat's events ordered by seq (optionally only those with time in [since, until)).
  virtual void scan_seat(const std::string& seat, std::optional<std::int64_t> since_ms,
                         std::optional<std::int64_t> until_ms,
                         const std::function<void(const StoredEvent&)>& fn) = 0;
  virtual std::optional<StoredEvent> event_at(const std::string& seat, std::uint64_t seq) = 0;
  virtual std::vector<SeatRecord> seats() = 0;
  virtual std::vector<Finding> findings(const std::optional<std::string>& seat) = 0;
  virtual std::vector<ChainHead> chain_heads(const std::string& seat) = 0;

  // Console paging (issue 15): events matching `f` in (time_ms, seat_id, seq) order, ascending
  // or descending, starting strictly after `from` in that order (nullopt = from the start).
  // Return false from `fn` to stop. The default sorts query()'s answer in memory (test doubles);
  // the real stores answer from an index.
  struct EventKey {
    std::int64_t time_ms = 0;
    std::string seat_id;
    std::uint64_t seq = 0;
  };
  virtual void query_keyset(const EventFilter& f, bool descending,
                            const std::optional<EventKey>& from,
                            const std::function<bool(const StoredEvent&)>& fn);

  // Violations (counts_as_violation()) per kViolationBucketMs bucket of event time and kind,
  // for buckets starting in [since, until). SQLite reads a rollup kept at ingest.
  static constexpr std::int64_t kViolationBucketMs = 15 * 60'000;
  struct ViolationBucket {
    std::int64_t bucket_ms = 0;
    std::string kind;
    std::uint64_t count = 0;
  };
  virtual std::vector<ViolationBucket> violation_buckets(std::int64_t since_ms,
                                                         std::int64_t until_ms);
  // The `limit` seats (or users, "" = no user left out) with the most violations in whole hours
  // [since, until) (both rounded down to the hour), most first, ties by name.
  struct ViolationTotal {
    std::string name;
    std::uint64_t count = 0;
  };
  virtual std::vector<ViolationTotal> top_violators(bool by_user, std::int64_t since_ms,
                                                    std::int64_t until_ms, std::size_t limit);

  // Enrollment tokens are stored only as sha256 hex.
  virtual void add_token(const std::string& token_hash, const std::string& seat,
                         const std::string& pubkey_b64) = 0;
  // The seat of a valid (not revoked) token. Safe to call from any thread while the writer
  // commits; it always reads the current state of the database.
  // (ClickHouse answers from a cache that sees revocations within 2 seconds.)
  virtual std::optional<std::string> seat_for_token(const std::string& token_hash) = 0;
  // Drops cached token answers (SIGHUP); a store that caches nothing ignores it.
  virtual void forget_cached_tokens() {}
  virtual std::vector<TokenRecord> tokens() = 0;
  // Marks matching tokens revoked; returns how many were newly revoked.
  virtual std::size_t revoke_tokens(const std::function<bool(const TokenRecord&)>& match) = 0;
  virtual std::vector<SeatRefusal> refusals() = 0;

  // Console accounts (admin data, not evidence), ordered by name. put_account inserts or
  // replaces the account with this name. (Both real stores implement them; the defaults serve
  // test doubles that wrap a store for other purposes.)
  virtual std::vector<AccountRecord> accounts() {
    throw std::runtime_error("this store holds no console accounts");
  }
  virtual std::optional<AccountRecord> account(const std::string& name) {
    for (AccountRecord& a : accounts())
      if (a.name == name) return std::move(a);
    return std::nullopt;
  }
  virtual void put_account(const AccountRecord& /*a*/) {
    throw std::runtime_error("this store holds no console accounts");
  }
};

// Housekeeping kinds never count; any other kind counts unless its severity is info (the same
// rule as seatlock::is_violation for the kind table in agent/core/event/kinds.cpp). Events of
// the collector's own chains ("collector:...": logins, central actions, verdicts) are what the
// center did or found, not a seat's breach: they never count.
bool counts_as_violation(std::string_view seat, std::string_view kind, std::string_view severity);

inline bool event_key_less(const EventStore::EventKey& a, const EventStore::EventKey& b) {
  if (a.time_ms != b.time_ms) return a.time_ms < b.time_ms;
  if (a.seat_id != b.seat_id) return a.seat_id < b.seat_id;
  return a.seq < b.seq;
}

inline void EventStore::query_keyset(const EventFilter& f, bool descending,
                                     const std::optional<EventKey>& from,
                                     const std::function<bool(const StoredEvent&)>& fn) {
  std::vector<StoredEvent> all;
  EventFilter unlimited = f;
  unlimited.limit = 0;
  query(unlimited, [&](const StoredEvent& e) {
    all.push_back(e);
    return true;
  });
  auto key = [](const StoredEvent& e) { return EventKey{e.time_ms, e.seat_id, e.seq}; };
  std::stable_sort(all.begin(), all.end(), [&](const StoredEvent& a, const StoredEvent& b) {
    return descending ? event_key_less(key(b), key(a)) : event_key_less(key(a), key(b));
  });
  for (const StoredEvent& e : all) {
    if (from && !(descending ? event_key_less(key(e), *from) : event_key_less(*from, key(e))))
      continue;
    if (!fn(e)) return;
  }
}

}  // namespace seatlock::collector
