#pragma once
// Challenge nonces: fresh (32 random bytes), bound to the seat that asked, usable once, valid
// for a few minutes. In memory: a collector restart forgets outstanding nonces, which only
// makes seats ask again (a nonce is never accepted twice, across restarts neither, since a
// forgotten nonce is refused).
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>

namespace seatlock::collector::attest {

class NonceStore {
 public:
  using Clock = std::chrono::system_clock;
  explicit NonceStore(std::chrono::seconds ttl = std::chrono::seconds(300),
                      std::size_t max_outstanding = 100000)
      : ttl_(ttl), max_(max_outstanding) {}

  struct Issued {
    std::string nonce;  // 32 raw bytes
    Clock::time_point expires;
  };
  Issued issue(const std::string& seat);
  // Consumes the nonce. "" when it was good; otherwise why not (unknown or already used,
  // expired, issued to another seat). A refused nonce is consumed too.
  std::string consume(const std::string& seat, const std::string& nonce);

 private:
  void expire_locked(Clock::time_point now);
  struct Entry {
    std::string seat;
    Clock::time_point expires;
  };
  std::chrono::seconds ttl_;
  std::size_t max_;
  std::mutex mu_;
  std::map<std::string, Entry> live_;
};

}  // namespace seatlock::collector::attest
