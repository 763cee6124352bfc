#pragma once
// Moves spooled events to the collector: one worker thread doing blocking HTTPS POSTs of
// signed, gzip'd NDJSON batches, applying the wire contract's response rules (docs/wire.md).
// Events it must report itself (a quarantined row, rows set aside, auth failures) are handed to
// `notify`, which the daemon forwards to its loop thread; the sender never appends to the spool
// itself. A delivery.* row that is quarantined or set aside produces no further notice.
//
// Rows leave the queue only when the collector stored them, when a 400 names the row (directly
// or found by bisection), or when the collector refuses (403) rows recorded under a seat id that
// is not the seat's current one (set aside). Every other failure keeps the rows queued.
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
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
  // The seat's current id. Rows recorded under another id (e.g. the hostname, before the
  // policy named the seat) that the collector refuses with 403 are set aside.
  std::string seat_id;
};

class Sender {
 public:
  using Notify = std::function<void(Event draft)>;
  // Loads (or makes) the seat key. Called by the worker before its first signature, so neither
  // OpenSSL's key decoding nor a damaged key file stands between seatlockd and READY=1 (a
  // failure is a local error: the rows wait, and it is tried again after the backoff).
  using KeyLoader = std::function<SeatKey()>;
  // `http` does the transfers (seatlockd: UplinkClient); it outlives the sender.
  Sender(Spool& spool, KeyLoader load_key, Notify notify, HttpClient& http);
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
  HttpResult post(const std::vector<SpooledEvent>& rows, const SenderConfig& cfg);
  void delivered(std::uint64_t first, std::uint64_t upto);
  void quarantine_row(const SpooledEvent& row, long status, const std::string& reason);
  void set_aside(const std::string& seat_id, long status, const std::string& reason);
  void narrow(const std::vector<SpooledEvent>& batch, std::size_t limit);
  bool bisect_found(const SpooledEvent& row, const SenderConfig& cfg);
  void auth_failed(long status, const std::string& reason);
  void sleep_ms(std::int64_t ms);
  void set_state(const std::string& state, const std::string& error = "");
  const SeatKey& seat_key();  // worker thread only

  Spool& spool_;
  KeyLoader load_key_;
  std::optional<SeatKey> key_;  // worker-owned, loaded on first use
  Notify notify_;
  HttpClient& http_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  SenderConfig cfg_;
  std::uint64_t cfg_generation_ = 0;
  bool kicked_ = false;
  std::atomic<bool> stopping_{false};
  std::thread worker_;

  // Worker-owned state (status() reads it under mu_).
  Backoff backoff_;
  // After a 413 or a 400 without a line: at most this many events per request (0 = no limit)
  // until rows up to narrow_until_ are delivered; doubles with every success.
  std::size_t narrow_limit_ = 0;
  std::uint64_t narrow_until_ = 0;
  // Successful requests, and their count when the current bisection started: a single row is
  // only blamed for a 400 without a line when the collector accepted something else meanwhile.
  std::uint64_t accepted_requests_ = 0;
  std::optional<std::uint64_t> bisect_mark_;
  std::string state_ = "idle";
  std::string last_error_;
  long last_status_ = 0;
  std::uint64_t delivered_ = 0;
  std::uint64_t quarantined_ = 0;
  std::uint64_t set_aside_ = 0;
  std::uint64_t requests_ = 0;
  std::int64_t next_attempt_ms_ = 0;  // steady-clock ms of the next attempt when waiting
  bool auth_reported_ = false;
};

}  // namespace seatlock
