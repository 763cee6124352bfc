#include "console/auth_api.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "console/csrf.hpp"

namespace seatlock::collector::console {
namespace {

constexpr const char* kCookieFlags = "; Path=/; HttpOnly; Secure; SameSite=Strict";

HttpResponse json_response(int status, const nlohmann::json& j) {
  HttpResponse r;
  r.status = status;
  r.body = j.dump();
  return r;
}

bool is_lang(const std::string& l) {
  return l == "en" || l == "zh-CN";
}

std::string lang_or_default(const std::string& l) {
  return is_lang(l) ? l : "en";
}

// A name as tried at the login form, safe to record: at most 64 bytes of printable ASCII.
std::string tried_name(const std::string& name) {
  std::string out;
  for (char c : name.substr(0, 64)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out;
}

}  // namespace

std::string address_of(const std::string& peer) {
  if (!peer.empty() && peer.front() == '[') return peer.substr(1, peer.find(']') - 1);
  return peer.substr(0, peer.rfind(':'));
}

std::string cookie_value(const HttpRequest& req, const std::string& name) {
  for (const auto& [k, v] : req.headers) {
    if (k != "cookie") continue;
    std::size_t pos = 0;
    while (pos < v.size()) {
      std::size_t end = v.find(';', pos);
      if (end == std::string::npos) end = v.size();
      std::string part = v.substr(pos, end - pos);
      auto first = part.find_first_not_of(' ');
      if (first != std::string::npos) part = part.substr(first);
      if (part.rfind(name + "=", 0) == 0) return part.substr(name.size() + 1);
      pos = end + 1;
    }
  }
  return "";
}

ConsoleAuth::ConsoleAuth(EventStore& store, audit::CollectorLog* log, const Clock& clock)
    : store_(store),
      log_(log),
      clock_(clock),
      sessions_(clock),
      policy_([this](const std::string& name) { return store_.account(name); }, clock) {}

std::optional<Caller> ConsoleAuth::caller(const HttpRequest& req) {
  std::string id = cookie_value(req, kSessionCookie);
  if (id.size() != 64) return std::nullopt;
  auto s = sessions_.use(id);
  if (!s) return std::nullopt;
  return Caller{id, s->account, s->role, "en"};
}

bool ConsoleAuth::check_account(Caller& c) {
  auto acc = store_.account(c.account);
  if (!acc || acc->disabled) {
    sessions_.close_account(c.account);
    return false;
  }
  c.role = acc->role;
  c.lang = lang_or_default(acc->lang);
  return true;
}

void ConsoleAuth::record(const std::string& kind, const std::string& severity,
                         const std::string& outcome, const std::string& account,
                         const std::string& peer, nlohmann::json details) {
  if (!log_)
    throw std::runtime_error(
        "this collector has no chain of its own to record console actions in (give "
        "--collector-key)");
  audit::CollectorEventInput in;
  in.kind = kind;
  in.severity = severity;
  in.outcome = outcome;
  in.actor = account;
  details["account"] = account;
  details["address"] = address_of(peer);
  in.details = std::move(details);
  log_->record(in);
}

HttpResponse ConsoleAuth::login(const HttpRequest& req, const std::string& peer) {
  if (!origin_ok(req)) return error_response(403, "CSRF token missing or wrong");
  auto body = nlohmann::json::parse(req.body, nullptr, false);
  if (!body.is_object() || !body.contains("name") || !body["name"].is_string() ||
      !body.contains("password") || !body["password"].is_string())
    return error_response(400, "expected {\"name\": \"...\", \"password\": \"...\"}");
  std::string name = body["name"].get<std::string>();
  LoginResult res = policy_.verify(name, body["password"].get<std::string>(), address_of(peer));
  const char* reason = to_string(res.verdict);
  if (res.verdict != LoginVerdict::ok) {
    nlohmann::json details = {{"reason", reason}};
    if (res.verdict == LoginVerdict::locked) details["locked_until_ms"] = res.locked_until_ms;
    try {
      record("console.login_failed", res.verdict == LoginVerdict::locked ? "medium" : "low",
             "refused", tried_name(name), peer, details);
    } catch (const std::exception& e) {
      std::fprintf(stderr,
                   "seatlock-collector: %s: failed console login of \"%s\" (%s) NOT "
                   "recorded: %s\n",
                   peer.c_str(), tried_name(name).c_str(), reason, e.what());
    }
  }
  switch (res.verdict) {
    case LoginVerdict::bad:
      return error_response(401, "wrong name or password");
    case LoginVerdict::disabled:
      return error_response(403, "this account is disabled");
    case LoginVerdict::locked: {
      std::int64_t wait_s =
          std::max<std::int64_t>(1, (res.locked_until_ms - clock_() + 999) / 1000);
      HttpResponse r = json_response(
          429, {{"error", "too many failed logins; try again in " + std::to_string(wait_s) + " s"},
                {"locked_until_ms", res.locked_until_ms}});
      r.headers.emplace_back("Retry-After", std::to_string(wait_s));
      return r;
    }
    case LoginVerdict::ok:
      break;
  }
  const AccountRecord& acc = *res.account;
  try {
    record("console.login", "info", "applied", acc.name, peer, {{"role", acc.role}});
  } catch (const std::exception& e) {
    // A login nobody could see later does not happen.
    return error_response(503, std::string("login could not be recorded: ") + e.what());
  }
  std::string id = sessions_.open(acc.name, acc.role);
  HttpResponse r = json_response(200, {{"account", acc.name},
                                       {"role", acc.role},
                                       {"lang", lang_or_default(acc.lang)},
                                       {"csrf", csrf_token(id)}});
  r.headers.emplace_back("Set-Cookie", std::string(kSessionCookie) + "=" + id + kCookieFlags);
  return r;
}

HttpResponse ConsoleAuth::logout(const Caller& c, const std::string& peer) {
  sessions_.close(c.session_id);
  try {
    record("console.logout", "info", "applied", c.account, peer);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seatlock-collector: %s: console logout of \"%s\" NOT recorded: %s\n",
                 peer.c_str(), c.account.c_str(), e.what());
  }
  HttpResponse r;
  r.status = 204;
  r.headers.emplace_back("Set-Cookie",
                         std::string(kSessionCookie) + "=" + kCookieFlags + "; Max-Age=0");
  return r;
}

HttpResponse ConsoleAuth::me(const Caller& c) const {
  return json_response(200, {{"account", c.account},
                             {"role", c.role},
                             {"lang", c.lang},
                             {"csrf", csrf_token(c.session_id)}});
}

HttpResponse ConsoleAuth::set_lang(Caller& c, const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  std::string lang = j.is_object() && j.contains("lang") && j["lang"].is_string()
                         ? j["lang"].get<std::string>()
                         : "";
  if (!is_lang(lang)) return error_response(400, "lang: expected \"en\" or \"zh-CN\"");
  auto acc = store_.account(c.account);
  if (!acc) return error_response(401, "this account was removed");
  acc->lang = lang;
  // updated_ms orders the versions of an account (ClickHouse keeps the highest).
  acc->updated_ms = std::max(clock_(), acc->updated_ms + 1);
  store_.put_account(*acc);
  c.lang = lang;
  HttpResponse r;
  r.status = 204;
  return r;
}

}  // namespace seatlock::collector::console
