#include "os/delivery/sender.hpp"

#include <chrono>

#include "core/util/digest.hpp"
#include "os/delivery/gzip.hpp"

namespace seatlock {

namespace {

std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

Event delivery_event(const std::string& kind, const std::string& severity, nlohmann::json details) {
  Event e;
  e.kind = kind;
  e.severity = severity;
  e.outcome = "reported";
  e.rule = "report.collector";
  e.details = std::move(details);
  return e;
}

}  // namespace

Sender::Sender(Spool& spool, SeatKey key, Notify notify)
    : spool_(spool), key_(std::move(key)), notify_(std::move(notify)) {}

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
                      {"last_status", last_status_},
                      {"last_error", last_error_}};
  if (next_attempt_ms_ > 0)
    j["next_attempt_in_ms"] = std::max<std::int64_t>(0, next_attempt_ms_ - steady_ms());
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
  next_attempt_ms_ = steady_ms() + ms;
  auto gen = cfg_generation_;
  cv_.wait_for(lk, std::chrono::milliseconds(ms),
               [&] { return stopping_ || kicked_ || gen != cfg_generation_; });
  kicked_ = false;
  next_attempt_ms_ = 0;
}

void Sender::run() {
  std::uint64_t seen = 0;
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

bool Sender::send_one() {
  SenderConfig cfg;
  {
    std::lock_guard lk(mu_);
    cfg = cfg_;
  }
  std::size_t limit = cfg.batch_max_events;
  if (split_limit_) limit = std::min(limit, split_limit_);
  auto batch = spool_.next_batch(limit, cfg.batch_max_bytes);
  if (batch.empty()) return false;
  const auto first = batch.front().seq, last = batch.back().seq;

  std::string body;
  for (const auto& r : batch) (body += r.body) += '\n';
  const std::string head_hash = sha256_hex(batch.back().body);
  const std::string sig = key_.sign(chain_head_message(batch.back().seat_id, last, head_hash));
  std::vector<std::string> headers = {
      "Content-Type: application/x-ndjson",
      "Content-Encoding: gzip",
      "X-Seatlock-Key: " + key_.public_b64(),
      "X-Seatlock-Chain-Head: " + std::to_string(last) + " " + head_hash,
      "X-Seatlock-Signature: " + base64_encode(sig),
  };
  set_state("sending");
  HttpResult res =
      http_post(cfg.collector + "/v1/events", gzip_compress(body), headers, cfg.tls, &stopping_);
  if (stopping_) return true;  // an aborted transfer says nothing about the collector
  Verdict v = judge(res, last);
  {
    std::lock_guard lk(mu_);
    ++requests_;
    last_status_ = res.status;
  }
  using A = Verdict::Action;
  switch (v.action) {
    case A::Delivered: {
      std::size_t n = spool_.mark_delivered(first, std::min(v.last_seq, last));
      std::lock_guard lk(mu_);
      delivered_ += n;
      state_ = "idle";
      last_error_.clear();
      backoff_.reset();
      split_limit_ = 0;
      auth_reported_ = false;
      return true;
    }
    case A::Quarantine: {
      std::size_t n = spool_.quarantine(first, last, v.reason);
      {
        std::lock_guard lk(mu_);
        quarantined_ += n;
        last_error_ = v.reason;
      }
      notify_(delivery_event("delivery.quarantined", "medium",
                             {{"first_seq", first},
                              {"last_seq", last},
                              {"events", n},
                              {"status", res.status},
                              {"error", v.reason}}));
      return true;
    }
    case A::Split:
      if (batch.size() == 1) {
        spool_.quarantine(first, last, v.reason);
        notify_(delivery_event("delivery.quarantined", "medium",
                               {{"first_seq", first},
                                {"last_seq", last},
                                {"events", 1},
                                {"status", 413},
                                {"error", "a single event is larger than the collector accepts"}}));
      } else {
        split_limit_ = std::max<std::size_t>(1, batch.size() / 2);
      }
      return true;
    case A::RetryAfter:
      set_state("retry-after", v.reason);
      sleep_ms(v.wait_s * 1000);
      return true;
    case A::AuthProblem: {
      set_state("auth-failed", v.reason);
      bool report;
      {
        std::lock_guard lk(mu_);
        report = !auth_reported_;
        auth_reported_ = true;
      }
      if (report)
        notify_(delivery_event("delivery.auth_failed", "medium",
                               {{"status", res.status}, {"error", v.reason}}));
      sleep_ms(backoff_.next_ms());
      return true;
    }
    case A::Backoff:
      set_state("backoff", v.reason);
      sleep_ms(backoff_.next_ms());
      return true;
  }
  return true;
}

}  // namespace seatlock
