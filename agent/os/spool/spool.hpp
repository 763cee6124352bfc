#pragma once
// The seat's evidence spool: an EventSink on SQLite (WAL, synchronous=FULL).
//
// - seq and prev are assigned inside the same transaction as the insert, from the chain head
//   stored in the database, so the chain has no gaps and survives crashes.
// - Group commit: everything queued since the last commit is written in ONE transaction (one
//   fsync), then the callers of that commit are woken (spool_queue.cpp). Producers make ids,
//   times and the canonical JSON on their own thread before they queue (prepared_event.hpp), so
//   the committer's work per event is filling in seq/prev, the chain hash and the INSERT.
// - append()/append_batch() return only once their events are durable. submit() queues without
//   waiting; its Pending::wait() returns once they are durable. Events one thread submits are
//   stored in the order it submitted them; concurrent callers are stored in queue order.
// - Bounded by max_bytes (sum of stored canonical bytes). On overflow the spool frees, in this
//   order: delivered rows, then the oldest queued non-violation rows, and only when nothing
//   else is left the oldest violations. Every lost row is recorded in a `spool.overflow` event
//   written in the same transaction (see docs/events.md).
// - Rows are queued -> delivered (kept for local inspection until space is needed), or
//   quarantined (rejected by the collector; kept, never silently dropped), or set aside (recorded
//   under a seat id the collector will never accept from this seat; kept, see set_aside_seat()).
//   Quarantined and set-aside rows go back to the queue with requeue().
#include <atomic>
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
#include <thread>
#include <vector>

#include "core/event/sink.hpp"
#include "os/spool/prepared_event.hpp"

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
  struct Request;

 public:
  // Creates the database when missing and starts the committer thread. Throws
  // std::runtime_error when it cannot be opened.
  explicit Spool(const std::string& path, std::uint64_t max_bytes = kDefaultSpoolMax);
  // Commits what is still queued, then stops the committer.
  ~Spool() override;

  // Events on their way to disk (see submit()).
  class Pending {
   public:
    Pending(Pending&&) noexcept;
    Pending& operator=(Pending&&) = delete;
    // Waits for the events if wait() was not called (they stay queued either way).
    ~Pending();
    // Returns the events as stored (seq and prev set) once their commit is durable; throws
    // what storing them failed with. Once only.
    std::vector<Event> wait();
    // Like wait(), but a failed commit does not throw: `error` is set and the events come back
    // as drafts (id and time filled, seq 0, prev empty: not stored), so the caller can keep them.
    std::vector<Event> wait(std::exception_ptr& error);
    // Whether the commit that takes these events has finished (stored or failed): wait() would
    // return at once. Never commits anything itself.
    bool ready() const;

   private:
    friend class Spool;
    Pending(Spool& spool, std::unique_ptr<Request> req);
    Spool* spool_;
    std::unique_ptr<Request> req_;
  };
  // Drafts made ready for the spool (ids, times, canonical JSON), not queued yet: made by
  // prepare() outside any lock of the caller, queued by submit() under it.
  class Prepared {
   public:
    Prepared(Prepared&&) noexcept;
    Prepared& operator=(Prepared&&) = delete;
    ~Prepared();
    // The drafts back (id and time filled), e.g. to keep them elsewhere instead of submitting.
    std::vector<Event> take_drafts() &&;
    // For a caller that will not look at the stored events (ResilientSink::post): frees each
    // draft's details now, on this thread, while they are hot in its caches (they are in the
    // canonical bytes already; freed later and cold by the sink's drainer, the reporter path
    // took about 40% more CPU per event, bench_spool reporter). A successful wait() then hands
    // the events back with null details; drafts handed back unstored (take_drafts(), a failed
    // wait()) get them back, parsed from those canonical bytes: the same bytes are stored when
    // they are kept and stored later.
    void drop_details();

   private:
    friend class Spool;
    explicit Prepared(std::unique_ptr<Request> req);
    std::unique_ptr<Request> req_;
  };
  // Fills ids and times and writes the canonical bytes on the caller's thread, taking the drafts
  // (`drafts` is left empty). Throws EventRejected when a draft cannot be serialised; `drafts`
  // then still holds them all, for the caller to repair or keep.
  Prepared prepare(std::vector<Event>& drafts);
  // Queues prepared drafts (cheap: the work per event was done by prepare()); `prepared` is
  // moved from only when queued (not when this throws because the spool is shutting down).
  Pending submit(Prepared&& prepared);
  // Like submit(), but the events are not stored (their wait() reports an error) when a commit
  // failed after failed_commits() was `fence`: a caller that keeps its own order across failed
  // commits (ResilientSink) must not have later events stored before the failed ones.
  Pending submit(Prepared&& prepared, std::uint64_t fence);
  // Commits that failed (nothing of them stored) since the spool was opened.
  std::uint64_t failed_commits() const { return failed_commits_.load(); }
  // Prepares the drafts on the caller's thread (ids, times, canonical JSON) and queues them;
  // returns without waiting for the disk. The events are durable only when Pending::wait()
  // returns; they are written by the commit after the one in progress, or by another caller's
  // wait(), or at the latest by this Pending's own wait() (or its destruction). Events one thread
  // submits get ascending seqs in submission order. Throws EventRejected, queueing nothing, when a
  // draft cannot be serialised. Every Pending must go before the Spool does.
  Pending submit(std::vector<Event> drafts);

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
  // Groups of queued requests taken for a commit so far, finished or not (tests: wait until a
  // commit is under way, so that what is submitted next goes into a later one).
  std::uint64_t commits_started();

  SpoolStats stats();
  std::vector<SpooledEvent> query(const SpoolQuery& q);
  const std::string& path() const { return path_; }

 private:
  struct Request {
    std::vector<Event> drafts;
    std::vector<spool_detail::PreparedEvent> prepared;  // one per draft, made by the producer
    std::vector<std::uint64_t> gaps_before;             // empty, or one per draft
    std::optional<std::uint64_t> expect_head;
    std::optional<std::uint64_t> fence;  // see submit(Prepared&&, fence)
    bool details_dropped = false;        // see Prepared::drop_details()
    std::uint64_t group = 0;             // number of the commit that takes it
    std::exception_ptr error;
  };
  static void prepare_request(Request& req);
  static void restore_details(Request& req);
  Pending enqueue(std::unique_ptr<Request>& req);
  void wait_done(const Request& req);
  void run_committer();
  // Takes the whole queue as one group and commits it; queue_mu_ held on entry and on return.
  void commit_queue(std::unique_lock<std::mutex>& lk);
  void commit_group(std::vector<Request*>& group);
  struct CommitStatements;

  std::string path_;
  std::unique_ptr<sql::Db> db_;
  std::unique_ptr<CommitStatements> stmts_;  // prepared once; before db_ in destruction
  std::mutex db_mu_;                         // one statement stream at a time on db_
  std::uint64_t max_bytes_;

  std::mutex queue_mu_;               // the committer's queue
  std::condition_variable queue_cv_;  // wakes the committer
  std::vector<Request*> queue_;
  std::vector<Request*> spare_queue_;  // empty; the next queue_ (see commit_queue)
  std::uint64_t taken_ = 0;  // groups the committer took; queued requests belong to taken_ + 1
  bool committer_idle_ = false;
  bool busy_ = false;  // a group is being committed (by the committer or a waiting caller)
  bool stop_ = false;

  std::mutex done_mu_;
  std::condition_variable done_cv_[2];  // by group parity: a commit wakes only its own callers
  // Groups finished (stored or failed). Written under done_mu_; read without it (release/acquire)
  // by ready() and by a wait for a group that is done already: the sink's drainer asks once per
  // submission, and taking two locks for each showed in the profile.
  std::atomic<std::uint64_t> done_{0};

  std::mutex commit_mu_;  // wait_for_commit()
  std::condition_variable commit_cv_;
  std::uint64_t commits_ = 0;
  std::atomic<std::uint64_t> failed_commits_{0};  // written by the committing thread only

  std::thread committer_;  // last: started once everything it uses exists
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
