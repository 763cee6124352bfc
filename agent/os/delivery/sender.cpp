#include "os/delivery/sender.hpp"

#include <chrono>

#include "core/event/kinds.hpp"
#include "core/gzip/gzip.hpp"
#include "core/util/digest.hpp"
#include "os/base/clock.hpp"

namespace seatlock {

namespace {

Event delivery_event(EventKind kind, nlohmann::json details) {
  Event e = make_event(kind, Outcome::Reported);
  e.rule = "report.collector";
  e.details = std::move(details);
  return e;
}

bool is_delivery_notice(const std::string& kind) {
  return kind.rfind("delivery.", 0) == 0;
}

}  // namespace

Sender::Sender(Spool& spool, KeyLoader load_key, Notify notify, HttpClient& http)
    : spool_(spool), load_key_(std::move(load_key)), notify_(std::move(notify)), http_(http) {}

Sender::~Sender() {
  stop();
}

void Sender::configure(SenderConfig cfg) {
  {
    std::lock_guard lk(mu_);
    cfg_ = std::move(cfg);
    ++cfg_generation_;
    kicked_ = true;
    auth_reported_ = false;
    backoff_.reset();
  }
  cv_.notify_all();
  spool_.wake_waiters();
}

void Sender::start() {
  if (worker_.joinable()) return;
  stopping_ = false;
  worker_ = std::thread([this] { run(); });
}

void Sender::stop() {
  stopping_ = true;
  cv_.notify_all();
  spool_.wake_waiters();
  if (worker_.joinable()) worker_.join();
}

void Sender::kick() {
  {
    std::lock_guard lk(mu_);
    kicked_ = true;
  }
  cv_.notify_all();
  spool_.wake_waiters();
}

nlohmann::json Sender::status() const {
  std::lock_guard lk(mu_);
  nlohmann::json j = {{"collector", cfg_.collector.empty() ? nlohmann::json(nullptr)
                                                           : nlohmann::json(cfg_.collector)},
                      {"state", cfg_.collector.empty() ? "spool-only" : state_},
                      {"requests", requests_},
                      {"delivered", delivered_},
                      {"quarantined", quarantined_},
                      {"set_aside", set_aside_},
                      {"batch_limit", narrow_limit_},
                      {"last_status", last_status_},
                      {"last_error", last_error_}};
  if (next_attempt_ms_ > 0)
    j["next_attempt_in_ms"] = std::max<std::int64_t>(0, next_attempt_ms_ - monotonic_millis());
  return j;
}

void Sender::set_state(const std::string& state, const std::string& error) {
  std::lock_guard lk(mu_);
  state_ = state;
  if (!error.empty()) last_error_ = error;
}

// Waits up to `ms`, returning early on stop, kick or a configuration change.
void Sender::sleep_ms(std::int64_t ms) {
  std::unique_lock lk(mu_);
  next_attempt_ms_ = monotonic_millis() + ms;
  auto gen = cfg_generation_;
  cv_.wait_for(lk, std::chrono::milliseconds(ms),
               [&] { return stopping_ || kicked_ || gen != cfg_generation_; });
  kicked_ = false;
  next_attempt_ms_ = 0;
}

void Sender::run() {
  std::uint64_t seen = 0;
  try {
    (void)seat_key();  // made on the first start, collector or not (seatlockd(8))
  } catch (const std::exception& e) {
    set_state("idle", std::string("local: ") + e.what());  // post() tries again
  }
  while (!stopping_) {
    bool configured;
    {
      std::lock_guard lk(mu_);
      configured = !cfg_.collector.empty();
      kicked_ = false;
    }
    if (!configured) {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || !cfg_.collector.empty(); });
      continue;
    }
    try {
      if (!send_one()) {
        set_state("idle");
        seen = spool_.wait_for_commit(seen, std::chrono::seconds(1));
      }
    } catch (const std::exception& e) {
      // A local problem (spool I/O, signing): keep the rows and retry later.
      set_state("backoff", std::string("local: ") + e.what());
      sleep_ms(backoff_.next_ms());
    }
  }
}

const SeatKey& Sender::seat_key() {
  if (!key_) key_.emplace(load_key_());
  return *key_;
}

HttpResult Sender::post(const std::vector<SpooledEvent>& rows, const SenderConfig& cfg) {
  std::string body;
  for (const auto& r : rows) (body += r.body) += '\n';
  const std::uint64_t last = rows.back().seq;
  const std::string head_hash = sha256_hex(rows.back().body);
  const SeatKey& key = seat_key();
  const std::string sig = key.sign(chain_head_message(rows.back().seat_id, last, head_hash));
  std::vector<std::string> headers = {
      "Content-Type: application/x-ndjson",
      "Content-Encoding: gzip",
      "X-Seatlock-Key: " + key.public_b64(),
      "X-Seatlock-Chain-Head: " + std::to_string(last) + " " + head_hash,
      "X-Seatlock-Signature: " + base64_encode(sig),
  };
  set_state("sending");
  HttpResult res =
      http_.post(cfg.collector + "/v1/events", gzip_compress(body), headers, cfg.tls, &stopping_);
  if (!stopping_) {
    std::lock_guard lk(mu_);
    ++requests_;
    last_status_ = res.status;
  }
  return res;
}

bool Sender::send_one() {
  SenderConfig cfg;
  {
    std::lock_guard lk(mu_);
    cfg = cfg_;
  }
  std::size_t limit = cfg.batch_max_events;
  {
    std::lock_guard lk(mu_);
    if (narrow_limit_) limit = std::min(limit, narrow_limit_);
  }
  auto batch = spool_.next_batch(limit, cfg.batch_max_bytes);
  if (batch.empty()) return false;
  const auto first = batch.front().seq, last = batch.back().seq;

  HttpResult res = post(batch, cfg);
  if (stopping_) return true;  // an aborted transfer says nothing about the collector
  Verdict v = judge(res, last);
  using A = Verdict::Action;
  switch (v.action) {
    case A::Delivered:
      delivered(first, std::min(v.last_seq, last));
      return true;
    case A::QuarantineLine:
      if (v.line <= batch.size()) {
        // The collector stored nothing: the rows before and after the named one go again.
        quarantine_row(batch[v.line - 1], res.status, v.reason);
        return true;
      }
      [[fallthrough]];  // a line outside the batch names nothing: find the row ourselves
    case A::Bisect:
      if (!bisect_mark_) bisect_mark_ = accepted_requests_;
      if (batch.size() > 1) {
        set_state("bisecting", v.reason);
        narrow(batch, batch.size() / 2);
        return true;
      }
      if (bisect_found(batch.front(), cfg)) {
        quarantine_row(batch.front(), res.status, v.reason + " (found by bisection)");
        bisect_mark_.reset();
        return true;
      }
      set_state("rejected", v.reason + " (for every event tried; rows stay queued)");
      sleep_ms(backoff_.next_ms());
      return true;
    case A::Split:
      if (batch.size() > 1) {
        narrow(batch, batch.size() / 2);
      } else if (batch.front().body.size() + 1 > kMaxBatchBytes) {
        // Larger than the wire contract lets any collector accept: it can never be delivered.
        quarantine_row(batch.front(), 413, "a single event is larger than the collector accepts");
      } else {
        // Within the contract's limit: a proxy or collector limit is misconfigured.
        set_state("backoff",
                  "413 for a single event of " + std::to_string(batch.front().body.size()) +
                      " bytes (within the 1 MiB the contract allows; check proxy limits)");
        sleep_ms(backoff_.next_ms());
      }
      return true;
    case A::RetryAfter:
      set_state("retry-after", v.reason);
      sleep_ms(v.wait_s * 1000);
      return true;
    case A::AuthProblem:
      // 403 for rows recorded under another seat id: this seat can never deliver them.
      if (res.status == 403 && !cfg.seat_id.empty() && batch.front().seat_id != cfg.seat_id) {
        set_aside(batch.front().seat_id, res.status, v.reason);
        return true;
      }
      auth_failed(res.status, v.reason);
      return true;
    case A::Backoff:
      set_state("backoff", v.reason);
      sleep_ms(backoff_.next_ms());
      return true;
  }
  return true;
}

void Sender::delivered(std::uint64_t first, std::uint64_t upto) {
  std::size_t n = spool_.mark_delivered(first, upto);
  std::lock_guard lk(mu_);
  delivered_ += n;
  ++accepted_requests_;
  state_ = "idle";
  last_error_.clear();
  backoff_.reset();
  auth_reported_ = false;
  if (narrow_limit_) {
    narrow_limit_ *= 2;
    if (upto >= narrow_until_) narrow_limit_ = 0;
  }
  if (!narrow_limit_) bisect_mark_.reset();
}

void Sender::narrow(const std::vector<SpooledEvent>& batch, std::size_t limit) {
  std::lock_guard lk(mu_);  // status() reads narrow_limit_
  narrow_limit_ = std::max<std::size_t>(1, limit);
  narrow_until_ = std::max(narrow_until_, batch.back().seq);
}

// A single row drew a 400 without a line. It is at fault when the collector accepted another
// request since the bisection began, or accepts the next queued row now; otherwise the
// endpoint rejects everything and nothing may be quarantined.
bool Sender::bisect_found(const SpooledEvent& row, const SenderConfig& cfg) {
  if (bisect_mark_ && accepted_requests_ > *bisect_mark_) return true;
  auto two = spool_.next_batch(2, cfg.batch_max_bytes);
  if (two.size() < 2 || two.front().seq != row.seq) return false;
  HttpResult res = post({two[1]}, cfg);
  if (stopping_) return false;
  Verdict v = judge(res, two[1].seq);
  if (v.action != Verdict::Action::Delivered) return false;
  delivered(two[1].seq, two[1].seq);
  return true;
}

void Sender::quarantine_row(const SpooledEvent& row, long status, const std::string& reason) {
  std::size_t n = spool_.quarantine(row.seq, row.seq, reason);
  {
    std::lock_guard lk(mu_);
    quarantined_ += n;
    last_error_ = reason;
  }
  if (n == 0 || is_delivery_notice(row.kind)) return;  // no notice about a notice
  notify_(delivery_event(EventKind::DeliveryQuarantined, {{"first_seq", row.seq},
                                                          {"last_seq", row.seq},
                                                          {"events", n},
                                                          {"kind", row.kind},
                                                          {"severity", row.severity},
                                                          {"status", status},
                                                          {"error", reason}}));
}

void Sender::set_aside(const std::string& seat_id, long status, const std::string& reason) {
  std::string note =
      "set aside: recorded as seat \"" + seat_id + "\", collector answered " + reason;
  SetAsideResult r = spool_.set_aside_seat(seat_id, note);
  {
    std::lock_guard lk(mu_);
    set_aside_ += r.rows;
    last_error_ = reason;
  }
  if (r.rows == r.notices) return;  // only delivery.* notices: no notice about a notice
  notify_(delivery_event(EventKind::DeliverySetAside, {{"first_seq", r.first_seq},
                                                       {"last_seq", r.last_seq},
                                                       {"events", r.rows},
                                                       {"seat_id", seat_id},
                                                       {"status", status},
                                                       {"error", reason}}));
}

void Sender::auth_failed(long status, const std::string& reason) {
  set_state("auth-failed", reason);
  bool report;
  {
    std::lock_guard lk(mu_);
    report = !auth_reported_;
    auth_reported_ = true;
  }
  if (report)
    notify_(delivery_event(EventKind::DeliveryAuthFailed, {{"status", status}, {"error", reason}}));
  sleep_ms(backoff_.next_ms());
}

}  // namespace seatlock
