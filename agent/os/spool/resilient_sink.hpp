#pragma once
// The sink seatlockd records into: the spool, plus what keeps recording (and enforcement) alive
// when the spool cannot store (disk full, I/O error). append() never throws because of storage:
//
// - On the first failure the sink turns degraded: a `spool.degraded` event and every event from
//   then on wait, in order, in a bounded in-memory backlog (limits below).
// - When the backlog is full the oldest non-violation is dropped (violations only when nothing
//   else is left). A dropped event keeps its place: it consumes one seq when the backlog is
//   stored, so the loss is a seq gap the collector's `verify` reports.
// - retry() (a timer) and append() (at most once a second) try to store the backlog: all of it
//   in one transaction, in order, followed by a `spool.recovered` event whose details.dropped
//   lists exactly the skipped seqs (docs/events.md).
// - Producers on several threads share the spool's commits: an append prepares its events (ids,
//   times, canonical JSON) on its own thread, queues them under the sink's lock (so one thread's
//   events keep their order, and none overtakes the backlog) and waits for the disk outside it.
//   Events of a commit that fails go to the backlog; among concurrent appends the order is the
//   one they reach the backlog in.
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/event/sink.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

struct BacklogLimits {
  std::size_t max_events = 10'000;
  std::uint64_t max_bytes = 16ULL << 20;  // canonical bytes of the waiting events
};

class ResilientSink : public EventSink {
 public:
  explicit ResilientSink(Spool& spool, BacklogLimits limits = {});

  // Stored events carry seq/prev; an event that had to wait in the backlog comes back with
  // seq 0 (it gets its seq when the backlog is stored).
  Event append(Event draft) override;
  std::vector<Event> append_batch(std::vector<Event> drafts) override;

  // Records `event` (kind, severity, outcome, details set) in front of the next event; its seat,
  // hostname and policy hash are copied from that event. For notices known before the reporter
  // exists (the spool was set aside at start).
  void record_first(Event event);
  // Tries to store the backlog now. true when nothing is waiting.
  bool retry();
  bool degraded() const;
  // {"state":"ok"|"degraded","backlog_events","backlog_bytes","lost","error","since"}
  nlohmann::json status() const;

 private:
  struct Entry {
    Event event;
    std::uint64_t bytes = 0;
    std::uint64_t lost_before = 0;  // dropped events that were queued just before this one
    bool pinned = false;            // never dropped (spool.* notices)
  };
  // Spool::prepare, retried with U+FFFD replacements when the drafts are not UTF-8.
  Spool::Prepared prepare(std::vector<Event>& drafts);
  std::vector<Event> store_or_queue(std::vector<Event> drafts);
  std::vector<Event> queue_and_try_locked(std::vector<Event> drafts);
  void queue(Event e, bool pinned);
  void evict_one();
  bool flush_locked();
  void enter_degraded(const std::string& error, const Event& like);

  Spool& spool_;
  BacklogLimits limits_;
  mutable std::mutex mu_;
  std::deque<Entry> backlog_;
  std::uint64_t backlog_bytes_ = 0;
  std::uint64_t lost_tail_ = 0;  // dropped after the last entry
  std::uint64_t lost_ = 0;       // dropped during this degraded episode
  std::uint64_t lost_violations_ = 0;
  std::uint64_t lost_total_ = 0;  // since start
  bool degraded_ = false;
  std::string error_;
  UnixMillis since_ = 0;
  std::chrono::steady_clock::time_point last_try_{};
};

// Replaces every byte sequence that is not UTF-8 (in details and the envelope strings) with
// U+FFFD, so that the event can be serialised; the spool rejects such an event otherwise.
void make_storable(Event& e);

}  // namespace seatlock
