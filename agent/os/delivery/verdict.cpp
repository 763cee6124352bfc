#include "os/delivery/verdict.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace seatlock {

Verdict judge(const HttpResult& r, std::uint64_t batch_last_seq) {
  Verdict v;
  using A = Verdict::Action;
  auto body = nlohmann::json::parse(r.body, nullptr, false);
  std::string error = body.is_object() && body.contains("error") && body["error"].is_string()
                          ? body["error"].get<std::string>()
                          : r.body.substr(0, 200);
  if (r.status == 0) {
    v.action = A::Backoff;
    v.reason = "network: " + r.error;
  } else if (r.status >= 200 && r.status < 300) {
    v.action = A::Delivered;
    v.last_seq = batch_last_seq;
    if (body.is_object() && body.contains("last_seq") && body["last_seq"].is_number_unsigned())
      v.last_seq = body["last_seq"].get<std::uint64_t>();
    v.reason = "stored";
  } else if (r.status == 413) {
    v.action = A::Split;
    v.reason = "413 batch too large";
  } else if (r.status == 429 || r.status == 503) {
    // No (or a useless) Retry-After: fall back to the normal backoff.
    v.action = r.retry_after_s ? A::RetryAfter : A::Backoff;
    v.wait_s = r.retry_after_s.value_or(0);
    v.reason = std::to_string(r.status) +
               (r.retry_after_s ? " retry after " + std::to_string(v.wait_s) + " s" : "");
  } else if (r.status == 401 || r.status == 403) {
    v.action = A::AuthProblem;
    v.reason = std::to_string(r.status) + ": " + error;
  } else if (r.status >= 400 && r.status < 500) {
    v.action = A::Quarantine;
    v.reason = std::to_string(r.status) + ": " + error;
  } else {
    v.action = A::Backoff;
    v.reason = std::to_string(r.status) + ": " + error;
  }
  return v;
}

std::int64_t Backoff::next_ms() {
  std::int64_t d = std::min<std::int64_t>(1000LL << std::min(attempt_, 9), 300'000);
  ++attempt_;
  std::uniform_int_distribution<std::int64_t> dist(d / 2, d);
  return dist(rng_);
}

}  // namespace seatlock
