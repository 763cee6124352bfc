// seatlockd's firmware attestation: attest at start (first apply) and every firmware.interval,
// report firmware.attestation, and answer `firmware.status` / `firmware.attest` on the control
// socket. All judgement is core/firmware; the reading is os/firmware.
#include <cstring>
#include <optional>

#include "core/event/event.hpp"
#include "daemon/service.hpp"
#include "os/base/log.hpp"
#include "os/firmware/local_attestation.hpp"

namespace seatlock {
namespace {

using nlohmann::json;

class FirmwareService : public Service {
 public:
  explicit FirmwareService(DaemonContext& ctx) : ctx_(ctx) {
    ctx_.control.add("firmware.status", [this](const json&) { return status_reply(); });
    ctx_.control.add("firmware.attest", [this](const json&) {
      if (!policy_) throw ControlError("firmware: no policy applied yet");
      run();
      return status_reply();
    });
  }
  ~FirmwareService() override { sd_event_source_unref(timer_); }

  std::string name() const override { return "firmware"; }

  void check(const Policy& policy) override {
    if (policy.firmware.interval_ms <= 0)
      throw std::runtime_error("firmware.interval must be positive");
  }

  void apply(const Policy& policy) override {
    policy_ = policy.firmware;
    run();
  }

  json status() const override {
    json s = {{"state", policy_ ? "running" : "waiting-for-policy"}};
    if (policy_) s["mode"] = to_string(policy_->mode);
    if (!last_.is_null()) {
      s["summary"] =
          last_.value("overall", "?") + ", baseline " + last_["baseline"].value("status", "?");
      s["attested_at"] = format_rfc3339_ms(attested_at_);
    }
    return s;
  }

  void stop() override {
    if (timer_) sd_event_source_set_enabled(timer_, SD_EVENT_OFF);
    stopped_ = true;
  }

 private:
  // Attest, report when due, and arm the timer for the next round.
  void run() {
    try {
      firmware::Attestation a = firmware::attest_local(ctx_.options.sysfs_root, *policy_);
      attested_at_ = now_millis();
      last_ = firmware::to_json(a);
      report_if_due(a);
    } catch (const std::exception& e) {
      log_error(std::string("firmware attestation failed: ") + e.what());
    }
    arm_timer();
  }

  // Identical consecutive results are re-sent only once firmware.resend has passed.
  void report_if_due(const firmware::Attestation& a) {
    std::string fingerprint = canonical_bytes(last_);
    if (fingerprint == last_fingerprint_ && attested_at_ - last_sent_ < policy_->resend_ms) return;
    Event e;
    e.kind = "firmware.attestation";
    e.severity = a.severity;
    e.outcome = a.overall == "violation" ? "detected" : "reported";
    e.mode = to_string(policy_->mode);
    e.rule = "firmware.require";
    e.details = last_;
    e.time = attested_at_;
    Event stored = ctx_.reporter.report(std::move(e));
    last_fingerprint_ = fingerprint;
    last_sent_ = attested_at_;
    last_event_ = {
        {"id", stored.id}, {"seq", stored.seq}, {"time", format_rfc3339_ms(stored.time)}};
  }

  void arm_timer() {
    if (stopped_) return;
    uint64_t now_us = 0;
    sd_event_now(ctx_.loop, CLOCK_MONOTONIC, &now_us);
    uint64_t at = now_us + static_cast<uint64_t>(policy_->interval_ms) * 1000;
    if (!timer_) {
      int r = sd_event_add_time(ctx_.loop, &timer_, CLOCK_MONOTONIC, at, 100'000, on_timer, this);
      if (r < 0) {
        log_error("firmware: cannot add the attestation timer: " + std::string(strerror(-r)));
        return;
      }
    } else {
      sd_event_source_set_time(timer_, at);
    }
    sd_event_source_set_enabled(timer_, SD_EVENT_ONESHOT);
    next_at_ = now_millis() + policy_->interval_ms;
  }

  static int on_timer(sd_event_source*, uint64_t, void* self) {
    static_cast<FirmwareService*>(self)->run();
    return 0;
  }

  json status_reply() const {
    json r = {{"attestation", last_}, {"next_at", next_at_ ? format_rfc3339_ms(next_at_) : ""}};
    if (attested_at_) r["attested_at"] = format_rfc3339_ms(attested_at_);
    if (!last_event_.is_null()) r["last_event"] = last_event_;
    if (policy_) r["mode"] = to_string(policy_->mode);
    return r;
  }

  DaemonContext& ctx_;
  std::optional<FirmwarePolicy> policy_;
  sd_event_source* timer_ = nullptr;
  bool stopped_ = false;
  json last_;
  json last_event_;
  std::string last_fingerprint_;
  UnixMillis attested_at_ = 0, last_sent_ = 0, next_at_ = 0;
};

}  // namespace

std::unique_ptr<Service> make_firmware_service(DaemonContext& ctx) {
  return std::make_unique<FirmwareService>(ctx);
}

}  // namespace seatlock
