#pragma once
// Console sign-in (issue 15): POST /api/login, POST /api/logout, GET /api/me, POST /api/me/lang
// (docs/console.md "Accounts and sessions"). Sessions live in memory (sessions.hpp); the
// browser holds only the id, in an HttpOnly, Secure, SameSite=Strict cookie. Every login,
// failed login and logout is an event in the collector's own signed chain with the account
// name and the client address.
//
// login(), logout(), set_lang() and check_account() block (Argon2id, the store, the chain):
// call them from the console's worker pool (worker_pool.hpp), never from an I/O thread.
// caller() only looks at memory.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "audit/collector_log.hpp"
#include "console/login_policy.hpp"
#include "console/sessions.hpp"
#include "http.hpp"
#include "store.hpp"

namespace seatlock::collector::console {

inline constexpr const char* kSessionCookie = "seatlock_session";

// Who is asking: the session behind the request's cookie.
struct Caller {
  std::string session_id;
  std::string account, role, lang;
};

// "203.0.113.5:40112" / "[::1]:40112" -> "203.0.113.5" / "::1".
std::string address_of(const std::string& peer);
// The value of cookie `name` in the request's Cookie header(s), "" when absent.
std::string cookie_value(const HttpRequest& req, const std::string& name);

class ConsoleAuth {
 public:
  using Clock = std::function<std::int64_t()>;
  // log: the collector's chain; null = nothing could be recorded, so every login is refused.
  ConsoleAuth(EventStore& store, audit::CollectorLog* log, const Clock& clock);

  // The live session of the request's cookie, or nullopt (no cookie, unknown, expired).
  std::optional<Caller> caller(const HttpRequest& req);
  // Blocking: the account still exists and is enabled (a `user disable` in another process
  // ends its sessions here); refreshes the role. false: the session was closed.
  bool check_account(Caller& c);

  HttpResponse login(const HttpRequest& req, const std::string& peer);
  HttpResponse logout(const Caller& c, const std::string& peer);
  HttpResponse me(const Caller& c) const;
  // Kept with the account in the store (survives logout and restarts).
  HttpResponse set_lang(Caller& c, const std::string& body);

  // An event in the collector's chain with details.account and details.address; throws when
  // it could not be recorded.
  void record(const std::string& kind, const std::string& severity, const std::string& outcome,
              const std::string& account, const std::string& peer,
              nlohmann::json details = nlohmann::json::object());

 private:
  EventStore& store_;
  audit::CollectorLog* log_;
  Clock clock_;
  SessionTable sessions_;
  LoginPolicy policy_;
};

}  // namespace seatlock::collector::console
