#include "clickhouse_token_cache.hpp"

namespace seatlock::collector {

TokenCache::~TokenCache() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (checker_.joinable()) checker_.join();
}

void TokenCache::forget_locked() {
  seats_.clear();
  ++generation_;
}

void TokenCache::forget() {
  std::lock_guard lk(mu_);
  forget_locked();
}

void TokenCache::watch() {
  std::unique_lock lk(mu_);
  while (!stopping_) {
    auto started = Clock::now();
    lk.unlock();
    std::optional<std::uint64_t> revoked;
    try {
      revoked = revocations_();
    } catch (...) {
      // Unreachable store: fresh_since_ ages past kMaxStale and the cache goes unused.
    }
    lk.lock();
    if (revoked) {
      if (revoked != revoked_seen_) forget_locked();
      revoked_seen_ = revoked;
      fresh_since_ = started;
    }
    cv_.wait_until(lk, started + kCheckInterval, [&] { return stopping_; });
  }
}

std::optional<std::string> TokenCache::seat_for(const std::string& token_hash) {
  std::uint64_t generation;
  {
    std::lock_guard lk(mu_);
    if (!checker_.joinable()) checker_ = std::thread([this] { watch(); });
    if (fresh_since_ && Clock::now() - *fresh_since_ < kMaxStale) {
      if (auto it = seats_.find(token_hash); it != seats_.end()) return it->second;
    }
    generation = generation_;
  }
  auto seat = lookup_(token_hash);  // not under the lock: lookups of different seats overlap
  if (seat) {
    std::lock_guard lk(mu_);
    // An answer read before a forget may predate the revocation that caused it: not kept.
    if (generation == generation_) seats_.emplace(token_hash, *seat);
  }
  return seat;
}

}  // namespace seatlock::collector
