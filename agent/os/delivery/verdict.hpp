#pragma once
// What the sender does with a collector answer (docs/wire.md, "Responses"). Pure logic.
#include <cstdint>
#include <random>
#include <string>

#include "os/delivery/http_post.hpp"

namespace seatlock {

struct Verdict {
  enum class Action { Delivered, Quarantine, AuthProblem, Split, RetryAfter, Backoff };
  Action action = Action::Backoff;
  std::uint64_t last_seq = 0;  // Delivered: collector's last_seq
  std::string reason;          // human-readable, for status and events
  long wait_s = 0;             // RetryAfter
};

// batch_last_seq is used when a 2xx answer does not carry last_seq.
Verdict judge(const HttpResult& r, std::uint64_t batch_last_seq);

// Jittered exponential backoff: attempt 0 -> ~1 s, doubling, capped at 5 min; the delay is
// drawn from [d/2, d] so recovering collectors are not hit by every seat at once.
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
