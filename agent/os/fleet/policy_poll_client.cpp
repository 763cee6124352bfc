#include "os/fleet/policy_poll_client.hpp"

#include <chrono>

namespace seatlock {

PolicyPollClient::PolicyPollClient(OnBundle on_bundle, HttpClient& http)
    : on_bundle_(std::move(on_bundle)), http_(http) {
  worker_ = std::thread([this] { run(); });
}

PolicyPollClient::~PolicyPollClient() {
  stop();
}

void PolicyPollClient::configure(PollConfig cfg, std::uint64_t cursor) {
  std::lock_guard lk(mu_);
  const bool same = cfg.collector == cfg_.collector && cfg.tls.ca_file == cfg_.tls.ca_file &&
                    cfg.tls.cert_file == cfg_.tls.cert_file &&
                    cfg.tls.key_file == cfg_.tls.key_file && cfg.tls.token == cfg_.tls.token &&
                    cfg.wait_s == cfg_.wait_s && cursor == cursor_;
  if (same) return;  // a reload that changed something else keeps the poll in flight
  cfg_ = std::move(cfg);
  cursor_ = cursor;
  ++generation_;
  abort_ = true;
  cv_.notify_all();
}

void PolicyPollClient::resume(std::uint64_t cursor, std::int64_t delay_ms) {
  std::lock_guard lk(mu_);
  cursor_ = cursor;
  handing_over_ = false;
  resume_delay_ms_ = delay_ms;
  cv_.notify_all();
}

void PolicyPollClient::stop() {
  {
    std::lock_guard lk(mu_);
    stopping_ = true;
    abort_ = true;
    cv_.notify_all();
  }
  if (worker_.joinable()) worker_.join();
}

nlohmann::json PolicyPollClient::status() const {
  std::lock_guard lk(mu_);
  nlohmann::json j = {{"state", state_},     {"collector", cfg_.collector},
                      {"after", cursor_},    {"polls", polls_},
                      {"bundles", bundles_}, {"last_status", last_status_}};
  if (!last_error_.empty()) j["last_error"] = last_error_;
  return j;
}

void PolicyPollClient::wait_ms(std::int64_t ms) {
  std::unique_lock lk(mu_);
  const std::uint64_t gen = generation_;
  cv_.wait_for(lk, std::chrono::milliseconds(ms), [&] { return stopping_ || generation_ != gen; });
}

void PolicyPollClient::run() {
  while (!stopping_) {
    std::int64_t delay = 0;
    {
      std::lock_guard lk(mu_);
      std::swap(delay, resume_delay_ms_);
    }
    if (delay > 0) wait_ms(delay);
    PollConfig cfg;
    std::uint64_t cursor = 0, gen = 0;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return stopping_ || (!handing_over_ && !cfg_.collector.empty()); });
      if (stopping_) return;
      cfg = cfg_;
      cursor = cursor_;
      gen = generation_;
      abort_ = false;  // from here on, configure() and stop() abort this request
      state_ = "polling";
      ++polls_;
    }
    const std::string url = cfg.collector + "/v1/policy?after=" + std::to_string(cursor) +
                            "&wait=" + std::to_string(cfg.wait_s);
    HttpResult r = http_.get(url, {"Accept: application/json"}, cfg.tls, &abort_, cfg.wait_s + 30);
    if (stopping_) return;
    {
      std::lock_guard lk(mu_);
      if (generation_ != gen) continue;  // reconfigured meanwhile: poll the new collector
      last_status_ = r.status;
    }
    if (r.status == 200 && !r.body.empty()) {
      backoff_.reset();
      {
        std::lock_guard lk(mu_);
        handing_over_ = true;
        state_ = "handing-over";
        last_error_.clear();
        ++bundles_;
      }
      on_bundle_(std::move(r.body));
    } else if (r.status == 204) {
      backoff_.reset();  // nothing newer: ask again at once
      std::lock_guard lk(mu_);
      last_error_.clear();
    } else {
      std::string why = r.status == 0 ? r.error : "HTTP " + std::to_string(r.status);
      if (r.status == 200) why = "HTTP 200 without a body";
      std::int64_t delay = r.retry_after_s ? *r.retry_after_s * 1000 : backoff_.next_ms();
      {
        std::lock_guard lk(mu_);
        state_ = "backoff";
        last_error_ = why;
      }
      wait_ms(delay);
    }
  }
}

}  // namespace seatlock
