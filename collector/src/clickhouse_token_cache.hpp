#pragma once
// Enrollment token → seat answers of a ClickHouse store, kept in the collector so that a request
// does not cost a ClickHouse round trip (a lookup is ~3 ms of server time, on the connection's
// I/O thread; every upload carries its token). A token never changes seat, so a cached answer
// can only become wrong by being revoked.
//
// Bound: a revoked token is refused within kMaxStale on every instance. A background thread
// re-reads the number of distinct revoked tokens every kCheckInterval (one small query per
// instance, whatever the number of seats) and drops every cached answer when it changed.
// Cached answers are used only while the last successful check started less than kMaxStale
// ago: a check that started after a revocation has seen it, and while ClickHouse does not
// answer the checks every token is looked up again (and fails like any store access). SIGHUP
// and a revocation by this process drop the cache at once. Unknown tokens are not cached (a
// new enrollment works at once).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

namespace seatlock::collector {

class TokenCache {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::milliseconds kCheckInterval{500};
  static constexpr std::chrono::milliseconds kMaxStale{2000};
  // lookup: the store's answer for one token hash; revocations: the store's number of distinct
  // revoked tokens. Both may throw (store unreachable).
  TokenCache(std::function<std::optional<std::string>(const std::string&)> lookup,
             std::function<std::uint64_t()> revocations)
      : lookup_(std::move(lookup)), revocations_(std::move(revocations)) {}
  ~TokenCache();
  TokenCache(const TokenCache&) = delete;
  TokenCache& operator=(const TokenCache&) = delete;

  std::optional<std::string> seat_for(const std::string& token_hash);
  void forget();

 private:
  void forget_locked();
  void watch();  // the background checker (started by the first seat_for)

  std::function<std::optional<std::string>(const std::string&)> lookup_;
  std::function<std::uint64_t()> revocations_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, std::string> seats_;  // token hash -> seat
  std::uint64_t generation_ = 0;                        // bumped by every forget
  std::optional<std::uint64_t> revoked_seen_;           // at the last successful check
  std::optional<Clock::time_point> fresh_since_;        // start of the last successful check
  bool stopping_ = false;
  std::thread checker_;
};

}  // namespace seatlock::collector
