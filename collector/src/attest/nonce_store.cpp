#include "attest/nonce_store.hpp"

#include <openssl/rand.h>

#include <stdexcept>

namespace seatlock::collector::attest {

void NonceStore::expire_locked(Clock::time_point now) {
  for (auto it = live_.begin(); it != live_.end();)
    it = it->second.expires <= now ? live_.erase(it) : std::next(it);
}

NonceStore::Issued NonceStore::issue(const std::string& seat) {
  Issued out;
  out.nonce.assign(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.nonce.data()), 32) != 1)
    throw std::runtime_error("no randomness for a nonce");
  auto now = Clock::now();
  out.expires = now + ttl_;
  std::lock_guard lock(mu_);
  if (live_.size() >= max_) expire_locked(now);
  if (live_.size() >= max_) throw std::runtime_error("too many outstanding attestation nonces");
  live_[out.nonce] = Entry{seat, out.expires};
  return out;
}

std::string NonceStore::consume(const std::string& seat, const std::string& nonce) {
  std::lock_guard lock(mu_);
  auto it = live_.find(nonce);
  if (it == live_.end()) return "nonce unknown or already used";
  Entry e = it->second;
  live_.erase(it);
  if (e.seat != seat) return "nonce was issued to another seat";
  if (e.expires <= Clock::now()) return "nonce expired";
  return "";
}

}  // namespace seatlock::collector::attest
