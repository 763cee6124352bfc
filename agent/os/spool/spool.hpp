#pragma once
// The seat's evidence spool: an EventSink on SQLite (WAL, synchronous=FULL).
//
// - seq and prev are assigned inside the same transaction as the insert, from the chain head
//   stored in the database, so the chain has no gaps and survives crashes.
// - Group commit: concurrent append()/append_batch() callers are collected by whichever caller
//   gets to the database first and written in ONE transaction (one fsync for all of them).
// - Bounded by max_bytes (sum of stored canonical bytes). On overflow the spool frees, in this
//   order: delivered rows, then the oldest queued non-violation rows, and only when nothing
//   else is left the oldest violations. Every lost row is recorded in a `spool.overflow` event
//   written in the same transaction (see docs/events.md).
// - Rows are queued -> delivered (kept for local inspection until space is needed), or
//   quarantined (rejected by the collector; kept, never silently dropped), or set aside (recorded
//   under a seat id the collector will never accept from this seat; kept, see set_aside_seat()).
//   Quarantined and set-aside rows go back to the queue with requeue().
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/event/sink.hpp"

namespace seatlock {

namespace sql {
class Db;
}

enum class SpoolState { Queued = 0, Delivered = 1, Quarantined = 2, SetAside = 3 };
const char* to_string(SpoolState s);

struct SpooledEvent {
  std::uint64_t seq = 0;
  std::string id;
  UnixMillis time = 0;
  std::string seat_id;
  std::string kind;
  std::string severity;
  SpoolState state = SpoolState::Queued;
  std::string body;  // canonical bytes, exactly what goes on the wire
  std::string note;  // why it was quarantined or set aside
};

struct SpoolStats {
  std::uint64_t head_seq = 0;
  std::string head_hash;
  std::uint64_t bytes = 0;
  std::uint64_t max_bytes = 0;
  std::uint64_t queued = 0;
  std::uint64_t delivered = 0;
  std::uint64_t quarantined = 0;
  std::uint64_t set_aside = 0;
  std::uint64_t dropped = 0;  // rows lost to overflow since the spool was created
};

struct SpoolQuery {
  UnixMillis since = 0;         // time >= since
  std::string kind;             // exact kind, or "" for all
  std::uint64_t after_seq = 0;  // seq > after_seq
  std::size_t limit = 0;        // 0 = no limit
};

// What Spool::set_aside_seat() took out of the queue.
struct SetAsideResult {
  std::size_t rows = 0;
  std::uint64_t first_seq = 0, last_seq = 0;
  std::size_t notices = 0;  // how many of them are delivery.* notices
};

inline constexpr std::uint64_t kDefaultSpoolMax = 256ULL << 20;

// The draft itself cannot be stored (e.g. a string that is not UTF-8); any other exception from
// append() is a storage failure (sql::Error: disk full, I/O error...).
class EventRejected : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Kinds the spool itself records about lost rows; their details.dropped lists the lost seqs.
bool is_loss_record(const std::string& kind);

class Spool : public EventSink {
 public:
  // Creates the database when missing. Throws std::runtime_error when it cannot be opened.
  explicit Spool(const std::string& path, std::uint64_t max_bytes = kDefaultSpoolMax);
  ~Spool() override;

  Event append(Event draft) override;
  std::vector<Event> append_batch(std::vector<Event> drafts) override;
  // Like append_batch, but `gaps_before[i]` seqs are skipped (consumed, never stored) before
  // drafts[i]: the places of events lost before they could be stored (see ResilientSink). Fails,
  // storing nothing, unless the chain head is still `expect_head` when the transaction starts.
  std::vector<Event> append_sequence(std::vector<Event> drafts,
                                     std::vector<std::uint64_t> gaps_before,
                                     std::uint64_t expect_head);
  // A fresh, empty spool continues an earlier chain: the next event gets seq + 1 and prev =
  // hash. Throws when the spool already holds events.
  void continue_chain(std::uint64_t seq, const std::string& hash);
  void set_max_bytes(std::uint64_t max_bytes);
  // PRAGMA quick_check, the chain head row and our columns; throws sql::Error with
  // SQLITE_CORRUPT when the file is not a usable spool.
  void check_usable();

  // Delivery side. Oldest queued rows of one seat, ascending seq, at most max_events rows and
  // max_body_bytes of NDJSON (always at least one row when any is queued).
  std::vector<SpooledEvent> next_batch(std::size_t max_events, std::size_t max_body_bytes);
  // Marks queued rows with first_seq <= seq <= upto_seq delivered; returns how many.
  std::size_t mark_delivered(std::uint64_t first_seq, std::uint64_t upto_seq);
  std::size_t quarantine(std::uint64_t first_seq, std::uint64_t last_seq,
                         const std::string& reason);
  // Takes every queued row recorded under seat_id out of the queue (state set-aside, with
  // note): rows the collector will never accept from this seat. (spool_requeue.cpp)
  SetAsideResult set_aside_seat(const std::string& seat_id, const std::string& note);
  // Puts quarantined and set-aside rows with first_seq <= seq <= last_seq back in the queue;
  // returns how many, and wakes the sender. (spool_requeue.cpp)
  std::size_t requeue(std::uint64_t first_seq, std::uint64_t last_seq);
  // Blocks until a commit newer than `seen` happened or the timeout passed; returns the
  // current commit counter (pass it back as `seen`).
  std::uint64_t wait_for_commit(std::uint64_t seen, std::chrono::milliseconds timeout);
  // Wakes every wait_for_commit() caller (used to stop a sender thread).
  void wake_waiters();

  SpoolStats stats();
  std::vector<SpooledEvent> query(const SpoolQuery& q);
  const std::string& path() const { return path_; }

 private:
  struct Request {
    std::vector<Event> drafts;
    std::exception_ptr error;
    bool done = false;
    std::vector<std::uint64_t> gaps_before;  // empty, or one per draft
    std::optional<std::uint64_t> expect_head;
  };
  std::vector<Event> submit(Request& req);
  void commit_group(std::vector<Request*>& group);

  std::string path_;
  std::unique_ptr<sql::Db> db_;
  std::mutex db_mu_;  // one statement stream at a time on db_
  std::uint64_t max_bytes_;

  std::mutex queue_mu_;  // group-commit queue
  std::condition_variable queue_cv_;
  std::vector<Request*> queue_;
  bool leader_active_ = false;

  std::mutex commit_mu_;
  std::condition_variable commit_cv_;
  std::uint64_t commits_ = 0;
};

// Read-only access for seatlockctl: never creates, migrates or writes the database.
class SpoolReader {
 public:
  explicit SpoolReader(const std::string& path);
  ~SpoolReader();
  SpoolStats stats();
  std::vector<SpooledEvent> query(const SpoolQuery& q);

 private:
  std::unique_ptr<sql::Db> db_;
};

}  // namespace seatlock
