// ResilientSink members for the way in: append() and submit() queue to the spool in order under
// the sink's lock; a drainer thread waits on the oldest submission (which commits an idle spool
// on its thread; the spool's committer takes what queued meanwhile, back to back), hands stored
// events back to a waiting append(), and moves the events of a failed commit into the backlog.
#include <stdexcept>

#include "os/base/log.hpp"
#include "os/spool/resilient_sink.hpp"

namespace seatlock {

namespace {

bool is_notice(const Event& e) {
  return e.kind.rfind("spool.", 0) == 0;
}

std::string what(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "unknown error";
  }
}

}  // namespace

ResilientSink::~ResilientSink() {
  {
    std::unique_lock lk(mu_);
    progress_cv_.wait(lk, [&] { return in_flight_.empty(); });
    stopping_ = true;
  }
  drainer_cv_.notify_all();
  drainer_.join();
}

Event ResilientSink::append(Event draft) {
  std::vector<Event> one;
  one.push_back(std::move(draft));
  std::vector<Event> out;
  store_or_queue(std::move(one), &out);
  return std::move(out.front());
}

std::vector<Event> ResilientSink::append_batch(std::vector<Event> drafts) {
  if (drafts.empty()) return {};
  std::vector<Event> out;
  store_or_queue(std::move(drafts), &out);
  return out;
}

void ResilientSink::post(Event draft) {
  std::vector<Event> one;
  one.push_back(std::move(draft));
  store_or_queue(std::move(one), nullptr);
}

void ResilientSink::flush() {
  std::unique_lock lk(mu_);
  progress_cv_.wait(lk, [&] { return in_flight_.empty(); });
}

void ResilientSink::store_or_queue(std::vector<Event> drafts, std::vector<Event>* result) {
  const Clock::time_point submitted = Clock::now();
  // Ids, times and canonical bytes are made before the lock, on this thread, in parallel with
  // the other producers; under the lock a producer only decides between queue and backlog.
  std::optional<Spool::Prepared> prepared;
  std::string error;
  try {
    prepared.emplace(prepare(drafts));
    if (!result) prepared->drop_details();  // post(): nobody looks at the stored events
  } catch (const std::exception& ex) {
    error = ex.what();  // drafts are still ours
  }
  const std::size_t count = drafts.empty() ? 1 : drafts.size();
  std::unique_lock lk(mu_);
  // Back-pressure: never more than max_in_flight events wait for the disk (one submission
  // larger than that still goes, alone).
  progress_cv_.wait(
      lk, [&] { return in_flight_.empty() || in_flight_events_ + count <= limits_.max_in_flight; });
  if (prepared && backlog_.empty()) {
    // Nothing unsettled before this submission: failures so far are all in the backlog (stored
    // since), so the spool may store it unless a commit fails from here on.
    if (in_flight_.empty()) fence_ = spool_.failed_commits();
    try {
      auto f = std::make_unique<InFlight>(
          InFlight{spool_.submit(std::move(*prepared), fence_), count, submitted, result});
      bool done = false;
      if (result) f->done = &done;
      bool wake = in_flight_.empty();
      in_flight_.push_back(std::move(f));
      in_flight_events_ += count;
      if (wake) drainer_cv_.notify_one();
      // append(): the wait for the disk releases the lock, so other producers queue meanwhile
      // and share the commit.
      if (result) progress_cv_.wait(lk, [&] { return done; });
      return;
    } catch (const std::exception& ex) {
      error = ex.what();  // not queued: `prepared` still holds the drafts
    }
  }
  // Keep the order: once anything waits in the backlog, everything after it waits too.
  if (prepared) drafts = std::move(*prepared).take_drafts();
  if (!error.empty()) enter_degraded(error, drafts.front());
  auto kept = queue_and_try_locked(std::move(drafts), lk);
  if (result) *result = std::move(kept);
}

void ResilientSink::run_drainer() {
  std::unique_lock lk(mu_);
  for (;;) {
    if (in_flight_.empty()) {
      if (stopping_) return;
      if (!degraded_) {
        drainer_cv_.wait(lk, [&] { return stopping_ || !in_flight_.empty() || degraded_; });
        continue;
      }
      // Degraded and idle: try the backlog again now and then, also when nobody records.
      drainer_cv_.wait_for(lk, limits_.retry_every,
                           [&] { return stopping_ || !in_flight_.empty(); });
      if (in_flight_.empty() && !stopping_ && degraded_ &&
          std::chrono::steady_clock::now() - last_try_ >= limits_.retry_every)
        flush_locked(lk);
      continue;
    }
    // Only the drainer takes entries off the front; producers add at the back.
    InFlight& front = *in_flight_.front();
    lk.unlock();
    std::exception_ptr error;
    std::vector<Event> events = front.pending.wait(error);
    lk.lock();
    std::vector<std::vector<Event>> spent;  // post()ed events nobody waits for
    spent.reserve(in_flight_.size());
    for (;;) {
      if (error) {
        finish_failed_front(events, error, lk);  // settles everything in flight
        break;
      }
      finish_front(events);
      if (!events.empty()) spent.push_back(std::move(events));
      // The submissions whose commit has ended too (mostly the rest of the same group) are
      // settled in this pass: one wake-up of the waiting producers per commit, not per event
      // (with one event per post(), those wake-ups were the sink's futex time in the profile).
      if (in_flight_.empty() || !in_flight_.front()->pending.ready()) break;
      events = in_flight_.front()->pending.wait(error);
    }
    progress_cv_.notify_all();
    if (!spent.empty()) {  // freed without holding up the producers
      lk.unlock();
      spent.clear();
      lk.lock();
    }
  }
}

void ResilientSink::hand_back(InFlight& f, std::vector<Event>& events) {
  if (f.result) *f.result = std::move(events);
  if (f.done) *f.done = true;
  in_flight_events_ -= f.events;
}

void ResilientSink::finish_front(std::vector<Event>& events) {
  if (observer_) observer_(in_flight_.front()->events, in_flight_.front()->submitted);
  hand_back(*in_flight_.front(), events);
  in_flight_.pop_front();
}

void ResilientSink::finish_failed_front(std::vector<Event>& events, const std::exception_ptr& error,
                                        std::unique_lock<std::mutex>& lk) {
  enter_degraded(what(error), events.front());
  for (Event& e : events) queue(e, is_notice(e));
  hand_back(*in_flight_.front(), events);
  in_flight_.pop_front();
  // Everything still in flight was submitted under the same fence: the spool refuses to store it
  // after this failure, so it follows these events into the backlog, in order. (Its commits have
  // nothing to write: quick, so the lock is held.)
  while (!in_flight_.empty()) {
    InFlight& f = *in_flight_.front();
    std::exception_ptr err;
    std::vector<Event> later = f.pending.wait(err);
    if (!err) {
      // Stored before the failed commit could not happen (groups commit in queue order); kept
      // as a safety net rather than queueing a stored event twice.
      log_error("spool: a submission after a failed commit was stored anyway");
    } else {
      for (Event& e : later) queue(e, is_notice(e));
    }
    hand_back(f, later);
    in_flight_.pop_front();
  }
  progress_cv_.notify_all();
  // The same rate as a failing append: at most one attempt a second.
  if (std::chrono::steady_clock::now() - last_try_ >= std::chrono::seconds(1)) flush_locked(lk);
}

}  // namespace seatlock
