// Spool members for the way into the spool: producers prepare and queue (submit); each group of
// queued requests is written in one transaction, and each caller waits only for the commit that
// took its request. A caller that finds nothing being committed commits the queue itself (no
// hand-off to another thread: a lone producer, like the daemon's loop, pays one commit and no
// scheduling delay); while a commit is in progress, what queues meanwhile is taken by the
// committer thread as soon as it ends, so a busy spool commits back to back.
#include <nlohmann/json.hpp>

#include "os/base/clock.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

Spool::Pending::Pending(Spool& spool, std::unique_ptr<Request> req)
    : spool_(&spool), req_(std::move(req)) {}

Spool::Pending::Pending(Pending&& other) noexcept
    : spool_(other.spool_), req_(std::move(other.req_)) {}

Spool::Pending::~Pending() {
  // The committer holds a pointer to the request until its group is done.
  if (req_) spool_->wait_done(*req_);
}

std::vector<Event> Spool::Pending::wait() {
  std::exception_ptr error;
  auto events = wait(error);
  if (error) std::rethrow_exception(error);
  return events;
}

std::vector<Event> Spool::Pending::wait(std::exception_ptr& error) {
  if (!req_) throw std::logic_error("Spool::Pending::wait() called twice");
  spool_->wait_done(*req_);
  auto req = std::move(req_);
  error = req->error;
  if (error) {
    for (Event& e : req->drafts) {  // the failed commit had numbered them already
      e.seq = 0;
      e.prev.clear();
    }
    restore_details(*req);
  }
  return std::move(req->drafts);
}

bool Spool::Pending::ready() const {
  if (!req_) return false;
  return spool_->done_.load(std::memory_order_acquire) >= req_->group;
}

Spool::Prepared::Prepared(std::unique_ptr<Request> req) : req_(std::move(req)) {}
Spool::Prepared::Prepared(Prepared&& other) noexcept = default;
Spool::Prepared::~Prepared() = default;

std::vector<Event> Spool::Prepared::take_drafts() && {
  if (!req_) return {};
  auto req = std::move(req_);
  restore_details(*req);
  return std::move(req->drafts);
}

void Spool::Prepared::drop_details() {
  if (!req_) return;
  for (Event& e : req_->drafts) e.details = nlohmann::json();
  req_->details_dropped = true;
}

void Spool::restore_details(Request& req) {
  if (!req.details_dropped) return;
  req.details_dropped = false;
  for (std::size_t i = 0; i < req.drafts.size(); ++i) {
    // The template or the filled body: either is the event's canonical JSON, details first.
    auto j = nlohmann::json::parse(req.prepared[i].text, nullptr, /*allow_exceptions=*/false);
    req.drafts[i].details =
        j.is_object() && j.contains("details") ? std::move(j["details"]) : nlohmann::json::object();
  }
}

Spool::Prepared Spool::prepare(std::vector<Event>& drafts) {
  auto req = std::make_unique<Request>();
  req->drafts.swap(drafts);
  try {
    prepare_request(*req);
  } catch (...) {
    drafts.swap(req->drafts);  // rejected: the caller keeps its drafts
    throw;
  }
  return Prepared(std::move(req));
}

Spool::Pending Spool::submit(Prepared&& prepared) {
  if (!prepared.req_) throw std::logic_error("Spool::submit: drafts already taken");
  return enqueue(prepared.req_);
}

Spool::Pending Spool::submit(Prepared&& prepared, std::uint64_t fence) {
  if (prepared.req_) prepared.req_->fence = fence;
  return submit(std::move(prepared));
}

Spool::Pending Spool::submit(std::vector<Event> drafts) {
  return submit(prepare(drafts));
}

void Spool::prepare_request(Request& req) {
  // Everything per event that does not depend on the chain head happens here, on the caller's
  // thread, in parallel with other producers and with the commit in progress.
  UnixMillis now = now_millis();
  req.prepared.clear();
  req.prepared.reserve(req.drafts.size());
  try {
    for (Event& e : req.drafts) req.prepared.push_back(spool_detail::prepare_event(e, now));
  } catch (const nlohmann::json::exception& ex) {
    throw EventRejected(std::string("event not stored: ") + ex.what());
  }
}

Spool::Pending Spool::enqueue(std::unique_ptr<Request>& req) {
  std::lock_guard lk(queue_mu_);
  if (stop_) throw std::logic_error("spool " + path_ + ": append after shutdown");
  queue_.push_back(req.get());
  req->group = taken_ + 1;
  // Nobody is woken here: the caller's wait() commits an idle spool itself, and a commit in
  // progress hands what queued meanwhile to the committer thread when it ends.
  return Pending(*this, std::move(req));
}

void Spool::commit_queue(std::unique_lock<std::mutex>& lk) {
  busy_ = true;
  // The queue goes on in the buffer of the group before (cleared, its capacity kept): growing a
  // fresh vector to thousands of one-event requests on every commit showed in the profile.
  std::vector<Request*> group;
  group.swap(queue_);
  queue_.swap(spare_queue_);
  std::uint64_t number = ++taken_;
  lk.unlock();
  // Whatever queues from here on belongs to the next group.
  commit_group(group);
  {
    std::lock_guard done_lk(done_mu_);
    done_.store(number, std::memory_order_release);
  }
  done_cv_[number % 2].notify_all();
  lk.lock();
  busy_ = false;
  group.clear();
  spare_queue_.swap(group);
}

void Spool::wait_done(const Request& req) {
  if (done_.load(std::memory_order_acquire) >= req.group) return;  // its commit has ended
  {
    std::unique_lock lk(queue_mu_);
    if (!busy_ && req.group == taken_ + 1) {  // still queued, and no commit in progress
      commit_queue(lk);
      bool more = !queue_.empty() && committer_idle_;
      lk.unlock();
      if (more) queue_cv_.notify_one();
      return;
    }
  }
  std::unique_lock lk(done_mu_);
  done_cv_[req.group % 2].wait(lk, [&] { return done_.load() >= req.group; });
}

std::uint64_t Spool::commits_started() {
  std::lock_guard lk(queue_mu_);
  return taken_;
}

void Spool::run_committer() {
  std::unique_lock lk(queue_mu_);
  for (;;) {
    committer_idle_ = true;
    queue_cv_.wait(lk, [&] { return !busy_ && (stop_ || !queue_.empty()); });
    committer_idle_ = false;
    if (queue_.empty()) return;  // stopping, and nothing is left to store
    commit_queue(lk);
  }
}

}  // namespace seatlock
