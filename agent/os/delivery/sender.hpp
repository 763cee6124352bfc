#pragma once
// Moves spooled events to the collector: one worker thread doing blocking HTTPS POSTs of
// signed, gzip'd NDJSON batches, applying the wire contract's response rules (docs/wire.md).
// Events it must report itself (a quarantined batch, auth failures) are handed to `notify`,
// which the daemon forwards to its loop thread; the sender never appends to the spool itself.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "core/event/event.hpp"
#include "os/delivery/http_post.hpp"
#include "os/delivery/seat_key.hpp"
#include "os/delivery/verdict.hpp"
#include "os/spool/spool.hpp"

namespace seatlock {

inline constexpr std::size_t kMaxBatchBytes = 1u << 20;  // uncompressed NDJSON per request

struct SenderConfig {
  std::string collector;  // "https://host:port"; "" = keep everything in the spool
  TlsSettings tls;
  std::size_t batch_max_events = 5000;
  std::size_t batch_max_bytes = kMaxBatchBytes;
};

class Sender {
 public:
  using Notify = std::function<void(Event draft)>;
  Sender(Spool& spool, SeatKey key, Notify notify);
  ~Sender();  // stops the worker

  void configure(SenderConfig cfg);
  void start();
  void stop();
  // Ends any wait (backoff, Retry-After) and tries now; for `delivery.flush`.
  void kick();
  nlohmann::json status() const;

 private:
  void run();
  bool send_one();  // false = nothing queued
  void sleep_ms(std::int64_t ms);
  void set_state(const std::string& state, const std::string& error = "");

  Spool& spool_;
  SeatKey key_;
  Notify notify_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  SenderConfig cfg_;
  std::uint64_t cfg_generation_ = 0;
  bool kicked_ = false;
  std::atomic<bool> stopping_{false};
  std::thread worker_;

  // Worker-owned state (status() reads it under mu_).
  Backoff backoff_;
  std::size_t split_limit_ = 0;  // after a 413: max events per request until the next success
  std::string state_ = "idle";
  std::string last_error_;
  long last_status_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t quarantined_ = 0;
  std::uint64_t requests_ = 0;
  std::int64_t next_attempt_ms_ = 0;  // steady-clock ms of the next attempt when waiting
  bool auth_reported_ = false;
};

}  // namespace seatlock
