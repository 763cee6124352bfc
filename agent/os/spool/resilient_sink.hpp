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
// - Producers on several threads share the spool's commits: an append or post prepares its
//   events (ids, times, canonical JSON) on its own thread, queues them under the sink's lock (so
//   one thread's events keep their order, and none overtakes the backlog) and, for append(),
//   waits for the disk outside it. post() does not wait: a drainer thread takes finished
//   commits off the front of the sink's in-flight list, in submission order
//   (resilient_sink_flow.cpp).
// - A failed commit moves its events, and everything submitted after them that is still in
//   flight (the spool refuses to store it, see Spool::submit(.., fence)), into the backlog in
//   submission order, under the ids and times they were given: nothing is lost or reordered.
// - Bounded: while max_in_flight events wait for the disk, producers wait (back-pressure).
//   flush() and destruction wait until nothing is in flight.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "core/event/sink.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

struct BacklogLimits {
  std::size_t max_events = 10'000;
  std::uint64_t max_bytes = 16ULL << 20;  // canonical bytes of the waiting events
  // Submitted events not durable yet (back-pressure). An event waits behind at most this many,
  // so its time to durable is about max_in_flight / rate; a commit takes about half of them (the
  // rest queue behind the commit in progress). bench_spool inflight, 1/8/64 producers, 5 runs on
  // a loaded 2-core machine: 16,384 gave p99 40-510 ms, 2,048 p99 31-111 ms at the same events/s
  // (~1,000-event commits: an explicit group commit of 1,000 reaches 110k/s). 1,024 cut p99 a
  // little more, but its commits are half as large (docs/spool.md).
  std::size_t max_in_flight = 2'048;
  std::chrono::milliseconds retry_every{2000};  // the drainer's retries while degraded
};

class ResilientSink : public EventSink {
 public:
  using Clock = std::chrono::steady_clock;
  // Told about every stored submission: how many events, and when post()/append() was called.
  using DurableObserver = std::function<void(std::size_t events, Clock::time_point submitted)>;

  explicit ResilientSink(Spool& spool, BacklogLimits limits = {});
  // Waits until nothing is in flight (flush()), then stops the drainer.
  ~ResilientSink() override;
  ResilientSink(const ResilientSink&) = delete;
  ResilientSink& operator=(const ResilientSink&) = delete;

  // Stored events carry seq/prev; an event that had to wait in the backlog comes back with
  // seq 0 (it gets its seq when the backlog is stored).
  Event append(Event draft) override;
  std::vector<Event> append_batch(std::vector<Event> drafts) override;
  // Queues the event behind everything appended or submitted before and returns; waits only
  // while max_in_flight events are in flight.
  void post(Event draft) override;
  // Returns once everything submitted before is stored (or waits in the backlog).
  void flush() override;
  // For measurements (bench/spool): set before the first submission.
  void on_durable(DurableObserver observer) { observer_ = std::move(observer); }

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
  // Submitted events on their way to disk, in submission order (resilient_sink_flow.cpp).
  struct InFlight {
    Spool::Pending pending;
    std::size_t events = 0;
    Clock::time_point submitted;
    std::vector<Event>* result = nullptr;  // append(): where the events go back, else dropped
    bool* done = nullptr;
  };
  // Spool::prepare, retried with U+FFFD replacements when the drafts are not UTF-8.
  Spool::Prepared prepare(std::vector<Event>& drafts);
  // Queues drafts (to the spool, or behind the backlog); with `result`, waits until they are
  // stored or in the backlog and puts them there.
  void store_or_queue(std::vector<Event> drafts, std::vector<Event>* result);
  std::vector<Event> queue_and_try_locked(std::vector<Event> drafts,
                                          std::unique_lock<std::mutex>& lk);
  void queue(Event e, bool pinned);
  void evict_one();
  bool flush_locked(std::unique_lock<std::mutex>& lk);
  void enter_degraded(const std::string& error, const Event& like);
  void run_drainer();
  // The front submission was stored: hand its events back (to a waiting append(); `events` is
  // left as is for post()ed ones, for the drainer to free outside the lock).
  void finish_front(std::vector<Event>& events);
  // The front submission's commit failed: move it (and everything after it, which the spool
  // refuses) into the backlog; wakes the waiting producers.
  void finish_failed_front(std::vector<Event>& events, const std::exception_ptr& error,
                           std::unique_lock<std::mutex>& lk);
  void hand_back(InFlight& f, std::vector<Event>& events);

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

  std::deque<std::unique_ptr<InFlight>> in_flight_;
  std::size_t in_flight_events_ = 0;
  std::uint64_t fence_ = 0;              // the spool's failed commits this sink has accounted for
  std::condition_variable progress_cv_;  // a submission finished (waiters, back-pressure, flush)
  std::condition_variable drainer_cv_;   // something to drain, or stop
  bool stopping_ = false;
  DurableObserver observer_;
  std::thread drainer_;  // last: started once everything it uses exists
};

// Replaces every byte sequence that is not UTF-8 (in details and the envelope strings) with
// U+FFFD, so that the event can be serialised; the spool rejects such an event otherwise.
void make_storable(Event& e);

}  // namespace seatlock
