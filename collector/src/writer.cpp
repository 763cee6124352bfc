#include "writer.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <exception>

namespace seatlock::collector {
namespace {
std::int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}
constexpr std::size_t kMaxEventsPerCommit = 50000;
}  // namespace

IngestWriter::IngestWriter(EventStore& store, std::size_t max_pending_events)
    : store_(store), max_pending_(max_pending_events), thread_([this] { run(); }) {}

bool IngestWriter::has_room_locked(std::size_t events) const {
  // One batch is always taken when nothing is queued, however large (the 1 MiB body limit
  // bounds it), so a seat's biggest batch can never be refused forever.
  return !stopping_ && (pending_events_ == 0 || pending_events_ + events <= max_pending_);
}

bool IngestWriter::has_room(std::size_t events) const {
  std::lock_guard lk(mu_);
  return has_room_locked(events);
}

std::size_t IngestWriter::pending_events() const {
  std::lock_guard lk(mu_);
  return pending_events_;
}

IngestWriter::~IngestWriter() {
  stop();
}

WriteOutcome IngestWriter::submit(Batch batch) {
  std::future<WriteOutcome> fut;
  {
    std::lock_guard lk(mu_);
    if (!has_room_locked(batch.events.size())) {
      WriteOutcome o;
      o.kind = WriteOutcome::Kind::overloaded;
      return o;
    }
    pending_events_ += batch.events.size();
    queue_.push_back(Job{std::move(batch), {}, {}});
    fut = queue_.back().done.get_future();
  }
  cv_.notify_one();
  return fut.get();
}

void IngestWriter::submit_async(Batch batch, std::function<void(WriteOutcome)> done) {
  {
    std::unique_lock lk(mu_);
    if (!has_room_locked(batch.events.size())) {
      lk.unlock();
      WriteOutcome o;
      o.kind = WriteOutcome::Kind::overloaded;
      done(std::move(o));
      return;
    }
    pending_events_ += batch.events.size();
    queue_.push_back(Job{std::move(batch), {}, std::move(done)});
  }
  cv_.notify_one();
}

void IngestWriter::note_refusal(const std::string& seat, int status, const std::string& reason,
                                std::int64_t now) {
  {
    std::lock_guard lk(mu_);
    if (stopping_) return;
    SeatRefusal& r = refusals_[seat];
    r.seat_id = seat;
    r.last_ms = now;
    r.status = status;
    r.reason = reason.substr(0, 1000);  // the seat chose this text; keep the record small
    r.count += 1;
  }
  cv_.notify_one();
}

void IngestWriter::stop() {
  {
    std::lock_guard lk(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
}

IngestWriter::Stats IngestWriter::stats() const {
  std::lock_guard lk(mu_);
  return stats_;
}

std::uint64_t IngestWriter::committed_events() const {
  std::lock_guard lk(mu_);
  return committed_;
}

void IngestWriter::run() {
  while (true) {
    std::deque<Job> group;
    std::map<std::string, SeatRefusal> refusals;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !queue_.empty() || !refusals_.empty(); });
      if (queue_.empty() && refusals_.empty()) return;  // stopping and drained
      refusals.swap(refusals_);
      std::size_t n = 0;
      while (!queue_.empty() &&
             (group.empty() || n + queue_.front().batch.events.size() <= kMaxEventsPerCommit)) {
        n += queue_.front().batch.events.size();
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      pending_events_ -= n;
    }
    commit_group(group, refusals);
  }
}

// The fast way first: the whole group in one transaction without savepoints. A savepoint per
// batch makes SQLite copy every page a batch touches into the sub-journal (malloc + memcpy +
// free per page): about a quarter of the writer's CPU with 1,000-event batches. Nothing needs
// undoing as long as every batch applies, which is the normal case; when one does not (rejected,
// or a store error), the group is rolled back and applied again batch by batch in savepoints
// (isolated), so that batch alone is refused, exactly as before.
bool IngestWriter::apply_group_fast(std::deque<Job>& group,
                                    const std::map<std::string, SeatRefusal>& refusals,
                                    std::vector<WriteOutcome>& out, std::uint64_t& stored) {
  auto txn = store_.begin();
  std::vector<StoreTxn::BatchRef> refs;
  for (const auto& job : group) refs.push_back({&job.batch.seat_id, &job.batch.events});
  txn->prefetch_group(refs);
  std::int64_t now = now_ms();
  try {
    for (std::size_t i = 0; i < group.size(); ++i) {
      auto r = apply_batch(*txn, group[i].batch, now);
      auto* a = std::get_if<Applied>(&r);
      if (!a) return false;  // rejected: its writes (if any) must go; redo isolated
      out[i].kind = WriteOutcome::Kind::applied;
      out[i].applied = std::move(*a);
      stored += out[i].applied.stored;
    }
    for (const auto& [seat, r] : refusals) txn->note_refusal(r);
  } catch (const std::exception&) {
    return false;  // txn rolls back when destroyed; the isolated pass says which batch failed
  }
  txn->commit();  // throws: nothing of the group is durable (handled by the caller)
  return true;
}

void IngestWriter::apply_group_isolated(std::deque<Job>& group,
                                        const std::map<std::string, SeatRefusal>& refusals,
                                        std::vector<WriteOutcome>& out, std::uint64_t& stored) {
  auto txn = store_.begin();
  std::vector<StoreTxn::BatchRef> refs;
  for (const auto& job : group) refs.push_back({&job.batch.seat_id, &job.batch.events});
  txn->prefetch_group(refs);
  std::int64_t now = now_ms();
  for (std::size_t i = 0; i < group.size(); ++i) {
    txn->savepoint();
    try {
      auto r = apply_batch(*txn, group[i].batch, now);
      if (auto* a = std::get_if<Applied>(&r)) {
        txn->release();
        out[i].kind = WriteOutcome::Kind::applied;
        out[i].applied = std::move(*a);
        stored += out[i].applied.stored;
      } else {
        txn->rollback_to();
        out[i].kind = WriteOutcome::Kind::rejected;
        out[i].rejection = std::get<Rejection>(r);
      }
    } catch (const std::exception& e) {
      txn->rollback_to();
      out[i].kind = WriteOutcome::Kind::failed;
      out[i].error = e.what();
    }
  }
  for (const auto& [seat, r] : refusals) {
    txn->savepoint();
    try {
      txn->note_refusal(r);
      txn->release();
    } catch (const std::exception& e) {
      txn->rollback_to();
      std::fprintf(stderr, "seatlock-collector: seat %s: refusal not recorded: %s\n", seat.c_str(),
                   e.what());
    }
  }
  txn->commit();
}

void IngestWriter::commit_group(std::deque<Job>& group,
                                std::map<std::string, SeatRefusal>& refusals) {
  std::vector<WriteOutcome> out(group.size());
  std::uint64_t stored = 0;
  auto t0 = std::chrono::steady_clock::now();
  bool isolated = false;
  try {
    if (!apply_group_fast(group, refusals, out, stored)) {
      isolated = true;
      std::fill(out.begin(), out.end(), WriteOutcome{});
      stored = 0;
      apply_group_isolated(group, refusals, out, stored);
    }
  } catch (const std::exception& e) {
    // Nothing of this group is durable: every seat must retry.
    for (auto& o : out) {
      o = WriteOutcome{};
      o.kind = WriteOutcome::Kind::failed;
      o.error = std::string("commit failed: ") + e.what();
    }
    stored = 0;
  }
  {
    std::lock_guard lk(mu_);
    committed_ += stored;
    stats_.commits += 1;
    stats_.isolated_commits += isolated ? 1 : 0;
    stats_.batches += group.size();
    stats_.events += stored;
    stats_.commit_seconds +=
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  for (std::size_t i = 0; i < group.size(); ++i) {
    if (group[i].on_done)
      group[i].on_done(std::move(out[i]));
    else
      group[i].done.set_value(std::move(out[i]));
  }
}

}  // namespace seatlock::collector
