#pragma once
// Console login decisions (issue 15), pure: accounts come from a lookup function, time from an
// injected clock, so tests drive lockouts without waiting.
//
// Rate limiting, like fail2ban's bantime.increment and Grafana's brute-force lockout:
// - per account: 5 failed logins within 15 minutes lock the account name for 15 minutes; every
//   further lockout of the same name doubles the lock (30 min, 1 h, ...), capped at 24 h. A
//   successful login clears the name's failures and its doubling.
// - per source address: the same with 20 failures (a call center's seats and supervisors often
//   share one NAT address; 20 still stops spraying one password over many names).
// Names are tracked whether or not the account exists, so a lockout reveals nothing. While
// locked, no password is checked at all (a correct password then still answers `locked`).
// Unknown accounts are checked against a dummy hash, so they cost as long as a wrong password.
// A disabled account answers `disabled` only to its correct password (else `bad`).
// State is in memory, per collector process (a restart forgets lockouts).
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "store.hpp"

namespace seatlock::collector::console {

enum class LoginVerdict { ok, bad, disabled, locked };
const char* to_string(LoginVerdict v);

struct LoginLimits {
  int account_failures = 5;
  int address_failures = 20;
  std::int64_t window_ms = 15 * 60 * 1000;  // failures older than this are forgotten
  std::int64_t lock_ms = 15 * 60 * 1000;    // first lockout; doubles per further lockout
  std::int64_t max_lock_ms = 24 * 3600 * 1000LL;
};

struct LoginResult {
  LoginVerdict verdict = LoginVerdict::bad;
  std::optional<AccountRecord> account;  // set when ok (name, role)
  std::int64_t locked_until_ms = 0;      // set when locked
};

class LoginPolicy {
 public:
  using Lookup = std::function<std::optional<AccountRecord>(const std::string& name)>;
  using Clock = std::function<std::int64_t()>;  // milliseconds
  LoginPolicy(Lookup lookup, Clock clock, LoginLimits limits = {});

  LoginResult verify(const std::string& name, const std::string& password,
                     const std::string& address);

 private:
  struct Counter {
    int failures = 0;
    std::int64_t first_failure_ms = 0;
    std::int64_t locked_until_ms = 0;
    int lockouts = 0;  // lockouts so far: the next lasts lock_ms << lockouts
  };
  // Records one failure; locks when the limit is reached.
  void fail(Counter& c, int limit, std::int64_t now);
  std::int64_t lock_length(int lockouts) const;

  Lookup lookup_;
  Clock clock_;
  LoginLimits limits_;
  std::mutex mu_;
  std::map<std::string, Counter> by_name_, by_address_;
};

}  // namespace seatlock::collector::console
