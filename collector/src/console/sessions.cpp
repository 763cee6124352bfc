#include "console/sessions.hpp"

#include <sodium.h>

#include "console/password.hpp"
#include "core/util/digest.hpp"

namespace seatlock::collector::console {

SessionTable::SessionTable(Clock clock, SessionLimits limits)
    : clock_(std::move(clock)), limits_(limits) {}

std::string SessionTable::open(const std::string& account, const std::string& role) {
  ensure_sodium();
  unsigned char raw[32];
  randombytes_buf(raw, sizeof raw);
  char hex[2 * sizeof raw + 1];
  sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
  std::string id(hex);
  std::int64_t now = clock_();
  std::lock_guard lk(mu_);
  by_hash_[sha256_hex(id)] = Session{account, role, now, now};
  return id;
}

std::optional<Session> SessionTable::use(const std::string& id) {
  std::int64_t now = clock_();
  std::lock_guard lk(mu_);
  auto it = by_hash_.find(sha256_hex(id));
  if (it == by_hash_.end()) return std::nullopt;
  Session& s = it->second;
  if (now - s.last_used_ms >= limits_.idle_ms || now - s.created_ms >= limits_.absolute_ms) {
    by_hash_.erase(it);
    return std::nullopt;
  }
  s.last_used_ms = now;
  return s;
}

void SessionTable::close(const std::string& id) {
  std::lock_guard lk(mu_);
  by_hash_.erase(sha256_hex(id));
}

std::size_t SessionTable::close_account(const std::string& account) {
  std::lock_guard lk(mu_);
  return std::erase_if(by_hash_, [&](const auto& kv) { return kv.second.account == account; });
}

std::size_t SessionTable::size() {
  std::lock_guard lk(mu_);
  return by_hash_.size();
}

}  // namespace seatlock::collector::console
