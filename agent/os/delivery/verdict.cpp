#include "os/delivery/verdict.hpp"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>

namespace seatlock {

namespace {

// An HTTP-date (RFC 9110 5.6.7: IMF-fixdate, or the obsolete RFC 850 and asctime forms) as
// seconds since the epoch; -1 when it is none. Parsed here rather than with curl_getdate() so
// that seatlockd links no HTTP stack (its transfers run in seatlock-uplink).
std::time_t parse_http_date(const std::string& text) {
  static constexpr const char* kForms[] = {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT",
                                           "%a %b %e %H:%M:%S %Y"};
  for (const char* form : kForms) {
    std::tm tm{};
    const char* end = strptime(text.c_str(), form, &tm);
    if (end && *end == '\0') return timegm(&tm);
  }
  return -1;
}

// The 1-based line a 400 answer names ({"error":...,"line":N}); 0 when it names none.
std::size_t named_line(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("line")) return 0;
  const auto& l = body["line"];
  if (l.is_number_unsigned()) return static_cast<std::size_t>(l.get<std::uint64_t>());
  if (l.is_number_integer() && l.get<std::int64_t>() > 0)
    return static_cast<std::size_t>(l.get<std::int64_t>());
  return 0;
}

}  // namespace

Verdict judge(const HttpResult& r, std::uint64_t batch_last_seq) {
  Verdict v;
  using A = Verdict::Action;
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  std::string error = body.is_object() && body.contains("error") && body["error"].is_string()
                          ? body["error"].get<std::string>()
                          : r.body.substr(0, 200);
  std::string status_error = std::to_string(r.status) + ": " + error;
  if (r.status == 0) {
    v.action = A::Backoff;
    v.reason = "network: " + r.error;
  } else if (r.status >= 200 && r.status < 300) {
    v.action = A::Delivered;
    v.last_seq = batch_last_seq;
    if (body.is_object() && body.contains("last_seq") && body["last_seq"].is_number_unsigned())
      v.last_seq = body["last_seq"].get<std::uint64_t>();
    v.reason = "stored";
  } else if (r.status == 400) {
    v.line = named_line(body);
    v.action = v.line ? A::QuarantineLine : A::Bisect;
    v.reason = status_error;
  } else if (r.status == 413) {
    v.action = A::Split;
    v.reason = "413 batch too large";
  } else if (r.status == 429 || r.status == 503) {
    // No (or a useless) Retry-After: fall back to the normal backoff.
    long wait = std::min(r.retry_after_s.value_or(0), kMaxRetryAfterS);
    v.action = wait > 0 ? A::RetryAfter : A::Backoff;
    v.wait_s = wait > 0 ? wait : 0;
    v.reason = std::to_string(r.status) +
               (wait > 0 ? " retry after " + std::to_string(wait) + " s" : ": " + error);
  } else if (r.status == 401 || r.status == 403) {
    v.action = A::AuthProblem;
    v.reason = status_error;
  } else {
    // 404/405/408/other 4xx, 5xx, an unexpected 1xx/3xx: the endpoint is wrong or unwell,
    // nothing says the rows are.
    v.action = A::Backoff;
    v.reason = status_error;
  }
  return v;
}

std::optional<long> parse_retry_after(std::string_view value, std::time_t now) {
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t' || value.back() == '\r' ||
                            value.back() == '\n'))
    value.remove_suffix(1);
  if (value.empty()) return std::nullopt;
  if (std::all_of(value.begin(), value.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    long s = 0;  // saturates at the ceiling instead of overflowing
    for (char c : value) {
      s = s * 10 + (c - '0');
      if (s >= kMaxRetryAfterS) return kMaxRetryAfterS;
    }
    return s;
  }
  // HTTP-date (RFC 9110: IMF-fixdate, or the obsolete RFC 850 / asctime forms).
  if (value.size() > 64 || !std::isalpha(static_cast<unsigned char>(value.front())))
    return std::nullopt;
  std::string text(value);
  std::time_t at = parse_http_date(text);
  if (at == -1) return std::nullopt;
  if (at <= now) return 0;
  return static_cast<long>(std::min<std::time_t>(at - now, kMaxRetryAfterS));
}

std::int64_t Backoff::next_ms() {
  std::int64_t d = std::min<std::int64_t>(1000LL << std::min(attempt_, 9), kMaxBackoffMs);
  attempt_ = std::min(attempt_ + 1, 1000);
  std::uniform_int_distribution<std::int64_t> dist(d / 2, d);
  return dist(rng_);
}

}  // namespace seatlock
