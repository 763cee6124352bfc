#pragma once
// What the sender does with a collector answer (docs/wire.md, "Responses"). Pure logic.
//
// Only an answer that names the offending line may take a row out of the queue: every other
// failure (404/405/408, 5xx, a proxy's error page, network errors) is a configuration or
// availability problem, so the rows stay queued and the sender backs off.
#include <cstdint>
#include <ctime>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "os/delivery/http_post.hpp"

namespace seatlock {

// A seat retries at least hourly, whatever a collector or proxy asks for in Retry-After.
inline constexpr long kMaxRetryAfterS = 3600;
// The longest backoff between two attempts.
inline constexpr std::int64_t kMaxBackoffMs = 300'000;

struct Verdict {
  enum class Action {
    Delivered,       // 2xx: rows up to last_seq are at the collector
    QuarantineLine,  // 400 naming line `line` (1-based in the body): that one row is at fault
    Bisect,          // 400 without a usable line: halve the batch until the row is found
    AuthProblem,     // 401/403: credentials or seat id not accepted
    Split,           // 413: batch too large, halve it
    RetryAfter,      // 429/503 with Retry-After: wait wait_s
    Backoff,         // everything else: keep the rows queued, jittered backoff
  };
  Action action = Action::Backoff;
  std::uint64_t last_seq = 0;  // Delivered: collector's last_seq
  std::size_t line = 0;        // QuarantineLine: 1-based line of the body
  std::string reason;          // human-readable, for status and events
  long wait_s = 0;             // RetryAfter, at most kMaxRetryAfterS
};

// batch_last_seq is used when a 2xx answer does not carry last_seq.
Verdict judge(const HttpResult& r, std::uint64_t batch_last_seq);

// The value of a Retry-After header (delta-seconds or an HTTP-date), in seconds from `now`,
// clamped to [0, kMaxRetryAfterS]. nullopt for anything else (garbage, negative numbers).
std::optional<long> parse_retry_after(std::string_view value, std::time_t now);

// Jittered exponential backoff: attempt 0 -> ~1 s, doubling, capped at kMaxBackoffMs; the
// delay is drawn from [d/2, d] so recovering collectors are not hit by every seat at once.
class Backoff {
 public:
  std::int64_t next_ms();
  void reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  int attempt_ = 0;
  std::mt19937_64 rng_{std::random_device{}()};
};

}  // namespace seatlock
