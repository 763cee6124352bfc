#include "os/spool/resilient_sink.hpp"

#include <algorithm>
#include <optional>
#include <stdexcept>

#include "core/event/kinds.hpp"
#include "core/util/utf8.hpp"
#include "os/base/clock.hpp"
#include "os/base/log.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

namespace {

using nlohmann::json;

bool is_notice(const Event& e) {
  return e.kind.rfind("spool.", 0) == 0;
}

void copy_shared_fields(Event& to, const Event& from) {
  to.seat_id = from.seat_id;
  to.hostname = from.hostname;
  to.policy_sha256 = from.policy_sha256;
}

}  // namespace

void make_storable(Event& e) {
  e.details = json::parse(e.details.dump(-1, ' ', false, json::error_handler_t::replace));
  for (std::string* s : {&e.id, &e.seat_id, &e.hostname, &e.kind, &e.severity, &e.outcome, &e.mode,
                         &e.policy_sha256, &e.rule})
    *s = valid_utf8(*s);
  if (e.user) e.user->name = valid_utf8(e.user->name);
}

ResilientSink::ResilientSink(Spool& spool, BacklogLimits limits)
    : spool_(spool), limits_(limits), drainer_([this] { run_drainer(); }) {}

Spool::Prepared ResilientSink::prepare(std::vector<Event>& drafts) {
  try {
    return spool_.prepare(drafts);
  } catch (const EventRejected& ex) {
    // Not a storage problem: a producer handed bytes that are not UTF-8. Store the event with
    // those bytes replaced rather than losing it.
    log_warning(std::string("spool: ") + ex.what() + "; storing it with U+FFFD replacements");
    for (Event& e : drafts) make_storable(e);
    return spool_.prepare(drafts);
  }
}

std::vector<Event> ResilientSink::queue_and_try_locked(std::vector<Event> drafts,
                                                       std::unique_lock<std::mutex>& lk) {
  // Keep the order: once anything waits, everything after it waits behind it.
  for (Event& e : drafts) queue(e, is_notice(e));
  // While degraded, a failing attempt costs a transaction: at most one a second from here.
  auto now = std::chrono::steady_clock::now();
  if (!degraded_ || now - last_try_ >= std::chrono::seconds(1)) flush_locked(lk);
  return drafts;
}

void ResilientSink::record_first(Event event) {
  std::lock_guard lk(mu_);
  if (event.time == 0) event.time = now_millis();
  queue(std::move(event), true);
}

void ResilientSink::enter_degraded(const std::string& error, const Event& like) {
  error_ = error;
  if (degraded_) return;
  degraded_ = true;
  since_ = now_millis();
  lost_ = lost_violations_ = 0;
  log_error("spool: cannot store events (" + error + "); keeping up to " +
            std::to_string(limits_.max_events) + " events in memory and retrying");
  Event d = make_event(EventKind::SpoolDegraded, Outcome::Reported);
  copy_shared_fields(d, like);
  d.time = since_;
  d.details = {{"error", error},
               {"backlog_max_events", limits_.max_events},
               {"backlog_max_bytes", limits_.max_bytes}};
  queue(std::move(d), true);
  drainer_cv_.notify_one();  // it retries while degraded, also when nobody records
}

void ResilientSink::queue(Event e, bool pinned) {
  make_storable(e);
  Entry entry;
  entry.bytes = canonical_bytes(e).size();
  entry.event = std::move(e);
  entry.pinned = pinned;
  backlog_bytes_ += entry.bytes;
  backlog_.push_back(std::move(entry));
  while (backlog_.size() > limits_.max_events || backlog_bytes_ > limits_.max_bytes) {
    std::size_t before = backlog_.size();
    evict_one();
    if (backlog_.size() == before) break;  // only pinned notices left
  }
}

void ResilientSink::evict_one() {
  // Same order as the spool's own overflow: housekeeping first, violations last.
  auto victim = std::find_if(backlog_.begin(), backlog_.end(),
                             [](const Entry& x) { return !x.pinned && !is_violation(x.event); });
  if (victim == backlog_.end())
    victim =
        std::find_if(backlog_.begin(), backlog_.end(), [](const Entry& x) { return !x.pinned; });
  if (victim == backlog_.end()) return;
  std::uint64_t lost = victim->lost_before + 1;
  if (is_violation(victim->event)) ++lost_violations_;
  ++lost_;
  ++lost_total_;
  backlog_bytes_ -= victim->bytes;
  auto next = backlog_.erase(victim);
  if (next == backlog_.end())
    lost_tail_ += lost;
  else
    next->lost_before += lost;
}

bool ResilientSink::retry() {
  std::unique_lock lk(mu_);
  return flush_locked(lk);
}

bool ResilientSink::flush_locked(std::unique_lock<std::mutex>& lk) {
  // The backlog goes after everything in flight: wait until the drainer has settled it (stored,
  // or moved into the backlog in front of what waits there). The drainer calls this only when
  // nothing is in flight.
  progress_cv_.wait(lk, [&] { return in_flight_.empty(); });
  last_try_ = std::chrono::steady_clock::now();
  if (backlog_.empty() && lost_tail_ == 0) return true;
  // Notices recorded before any event borrow the seat of the first real event.
  auto like = std::find_if(backlog_.begin(), backlog_.end(),
                           [](const Entry& x) { return !x.event.seat_id.empty(); });
  if (like == backlog_.end()) return false;
  for (Entry& x : backlog_)
    if (x.event.seat_id.empty()) copy_shared_fields(x.event, like->event);

  std::vector<Event> drafts;
  std::vector<std::uint64_t> gaps;
  try {
    std::uint64_t head = spool_.stats().head_seq;
    std::uint64_t seq = head;
    json dropped = json::array();
    for (const Entry& x : backlog_) {
      if (x.lost_before) dropped.push_back({{"first", seq + 1}, {"last", seq + x.lost_before}});
      seq += x.lost_before + 1;
      drafts.push_back(x.event);
      gaps.push_back(x.lost_before);
    }
    if (lost_tail_) dropped.push_back({{"first", seq + 1}, {"last", seq + lost_tail_}});
    if (degraded_) {
      Event r = make_event(EventKind::SpoolRecovered,
                           lost_violations_ ? Severity::High
                           : lost_          ? Severity::Medium
                                            : Severity::Info,
                           lost_ ? Outcome::Dropped : Outcome::Reported);
      copy_shared_fields(r, backlog_.back().event);
      r.time = now_millis();
      r.details = {{"dropped", dropped},
                   {"events", lost_},
                   {"violations", lost_violations_},
                   {"stored_late", backlog_.size()},
                   {"degraded_since", format_rfc3339_ms(since_)},
                   {"error", error_}};
      drafts.push_back(std::move(r));
      gaps.push_back(lost_tail_);
    }
    spool_.append_sequence(std::move(drafts), std::move(gaps), head);
  } catch (const std::exception& ex) {
    if (!degraded_) enter_degraded(ex.what(), like->event);
    error_ = ex.what();
    return false;
  }
  if (degraded_)
    log_info("spool: storing works again; " + std::to_string(backlog_.size()) +
             " waiting events stored, " + std::to_string(lost_) + " lost");
  backlog_.clear();
  backlog_bytes_ = 0;
  lost_tail_ = 0;
  degraded_ = false;
  return true;
}

bool ResilientSink::degraded() const {
  std::lock_guard lk(mu_);
  return degraded_;
}

json ResilientSink::status() const {
  std::lock_guard lk(mu_);
  json j = {{"state", degraded_ ? "degraded" : "ok"},
            {"backlog_events", backlog_.size()},
            {"backlog_bytes", backlog_bytes_},
            {"lost", lost_total_}};
  if (degraded_) {
    j["error"] = error_;
    j["since"] = format_rfc3339_ms(since_);
  }
  return j;
}

}  // namespace seatlock
