#pragma once
// The single writer: batches from all connections are queued here and committed together
// (group commit). Each batch runs in its own savepoint, so a rejected batch never takes others
// down with it, and a seat is answered only after the commit is on disk.
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "ingest.hpp"
#include "store.hpp"

namespace seatlock::collector {

struct WriteOutcome {
  enum class Kind { applied, rejected, overloaded, failed } kind = Kind::failed;
  Applied applied;
  Rejection rejection;
  std::string error;  // for failed
};

class IngestWriter {
 public:
  // max_pending_events: queued events beyond this answer 503 (the seat retries later).
  IngestWriter(EventStore& store, std::size_t max_pending_events);
  ~IngestWriter();
  WriteOutcome submit(Batch batch);
  // The same without blocking: `done` runs exactly once, on the writer thread after the commit
  // (or at once on the caller's thread when refused as overloaded). Keep it short: hand off.
  void submit_async(Batch batch, std::function<void(WriteOutcome)> done);
  // Records a refused batch of an authenticated seat with the next commit (not waited for;
  // notes for one seat between two commits are merged).
  void note_refusal(const std::string& seat, int status, const std::string& reason,
                    std::int64_t now_ms);
  // Whether a batch of `events` would be queued now (not stopping, room in the queue): lets a
  // connection refuse before it spends CPU parsing a batch the queue would refuse anyway.
  bool has_room(std::size_t events) const;
  std::size_t pending_events() const;
  // Commits what is queued, then stops; later submits answer overloaded.
  void stop();
  std::uint64_t committed_events() const;
  struct Stats {
    std::uint64_t commits = 0, batches = 0, events = 0;
    std::uint64_t isolated_commits = 0;  // groups redone batch by batch (one did not apply)
    double commit_seconds = 0;           // time spent in the store (apply + commit)
  };
  Stats stats() const;

 private:
  struct Job {
    Batch batch;
    std::promise<WriteOutcome> done;
    std::function<void(WriteOutcome)> on_done;  // submit_async(); `done` unused then
  };
  bool has_room_locked(std::size_t events) const;
  void run();
  void commit_group(std::deque<Job>& group, std::map<std::string, SeatRefusal>& refusals);
  // One transaction, no savepoints; false (nothing kept) when a batch was rejected or failed.
  bool apply_group_fast(std::deque<Job>& group, const std::map<std::string, SeatRefusal>& refusals,
                        std::vector<WriteOutcome>& out, std::uint64_t& stored);
  // Each batch (and each refusal note) in its own savepoint.
  void apply_group_isolated(std::deque<Job>& group,
                            const std::map<std::string, SeatRefusal>& refusals,
                            std::vector<WriteOutcome>& out, std::uint64_t& stored);

  EventStore& store_;
  std::size_t max_pending_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;
  std::map<std::string, SeatRefusal> refusals_;  // by seat, waiting for the next commit
  std::size_t pending_events_ = 0;
  bool stopping_ = false;
  std::uint64_t committed_ = 0;
  Stats stats_;
  std::thread thread_;
};

}  // namespace seatlock::collector
