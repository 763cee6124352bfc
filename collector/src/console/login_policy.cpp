#include "console/login_policy.hpp"

#include <algorithm>

#include "console/password.hpp"

namespace seatlock::collector::console {

const char* to_string(LoginVerdict v) {
  switch (v) {
    case LoginVerdict::ok:
      return "ok";
    case LoginVerdict::bad:
      return "bad";
    case LoginVerdict::disabled:
      return "disabled";
    case LoginVerdict::locked:
      return "locked";
  }
  return "?";
}

LoginPolicy::LoginPolicy(Lookup lookup, Clock clock, LoginLimits limits)
    : lookup_(std::move(lookup)), clock_(std::move(clock)), limits_(limits) {}

std::int64_t LoginPolicy::lock_length(int lockouts) const {
  std::int64_t len = limits_.lock_ms;
  for (int i = 0; i < lockouts && len < limits_.max_lock_ms; ++i) len *= 2;
  return std::min(len, limits_.max_lock_ms);
}

void LoginPolicy::fail(Counter& c, int limit, std::int64_t now) {
  if (c.failures == 0 || now - c.first_failure_ms > limits_.window_ms) {
    c.failures = 0;
    c.first_failure_ms = now;
  }
  if (++c.failures >= limit) {
    c.locked_until_ms = now + lock_length(c.lockouts);
    ++c.lockouts;
    c.failures = 0;
  }
}

LoginResult LoginPolicy::verify(const std::string& name, const std::string& password,
                                const std::string& address) {
  std::int64_t now = clock_();
  {
    std::lock_guard lk(mu_);
    std::int64_t until =
        std::max(by_name_[name].locked_until_ms, by_address_[address].locked_until_ms);
    if (until > now) return LoginResult{LoginVerdict::locked, std::nullopt, until};
  }
  // The slow hash runs without the lock: logins of different people do not queue.
  std::optional<AccountRecord> acc = lookup_(name);
  bool matches = acc ? verify_password(acc->password_hash, password)
                     : (verify_password(dummy_hash(), password), false);
  std::lock_guard lk(mu_);
  if (!matches) {
    fail(by_name_[name], limits_.account_failures, now);
    fail(by_address_[address], limits_.address_failures, now);
    return LoginResult{};
  }
  by_name_.erase(name);  // the right password: its owner starts afresh
  if (acc->disabled) return LoginResult{LoginVerdict::disabled, std::nullopt, 0};
  return LoginResult{LoginVerdict::ok, std::move(acc), 0};
}

}  // namespace seatlock::collector::console
