#pragma once
// Console sessions (issue 15): a random 256-bit id (64 hex characters) given to the browser;
// the collector keeps only its sha256, so a memory dump or a debug listing shows no usable id.
// A session ends after `idle_ms` without a request or `absolute_ms` after login, whichever
// comes first. Time comes from an injected clock. In memory, per collector process.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace seatlock::collector::console {

struct SessionLimits {
  std::int64_t idle_ms = 30 * 60 * 1000;          // 30 minutes without a request
  std::int64_t absolute_ms = 12 * 3600 * 1000LL;  // one working shift
};

struct Session {
  std::string account, role;
  std::int64_t created_ms = 0, last_used_ms = 0;
};

class SessionTable {
 public:
  using Clock = std::function<std::int64_t()>;
  explicit SessionTable(Clock clock, SessionLimits limits = {});
  // A new session; returns its id (only the caller ever sees it).
  std::string open(const std::string& account, const std::string& role);
  // The live session with this id (and marks it used now), or nullopt if unknown or expired.
  std::optional<Session> use(const std::string& id);
  void close(const std::string& id);
  // Ends every session of `account` (disabled, password changed); returns how many.
  std::size_t close_account(const std::string& account);
  std::size_t size();

 private:
  Clock clock_;
  SessionLimits limits_;
  std::mutex mu_;
  std::map<std::string, Session> by_hash_;  // sha256 hex of the id -> session
};

}  // namespace seatlock::collector::console
