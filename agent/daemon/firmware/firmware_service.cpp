// seatlockd's firmware attestation: attest at start (first apply) and every firmware.interval,
// report firmware.attestation, and answer `firmware.status` / `firmware.attest` on the control
// socket. All judgement is core/firmware; the reading is os/firmware.
#include <cstring>
#include <optional>

#include "core/event/kinds.hpp"
#include "core/policy/event_mode.hpp"
#include "daemon/service.hpp"
#include "os/base/event_loop.hpp"
#include "os/base/log.hpp"
#include "os/firmware/local_attestation.hpp"

namespace seatlock {
namespace {

using nlohmann::json;

class FirmwareService : public Service {
 public:
  explicit FirmwareService(DaemonContext& ctx)
      : ctx_(ctx),
        timer_(ctx.loop, CLOCK_MONOTONIC, 100'000, "firmware: attestation interval",
               [this](std::uint64_t) { run(); }) {
    ctx_.control.add("firmware.status", [this](const json&) { return status_reply(); });
    ctx_.control.add("firmware.attest", [this](const json&) {
      if (!policy_) throw ControlError("firmware: no policy applied yet");
      run();
      return status_reply();
    });
  }
  std::string name() const override { return "firmware"; }

  void check(const Policy& policy) override {
    if (policy.firmware.interval_ms <= 0)
      throw std::runtime_error("firmware.interval must be positive");
  }

  void apply(const Policy& policy) override {
    const bool starting = !policy_;
    policy_ = policy.firmware;
    // At start-up the first round runs from the loop, so after READY=1: attestation is
    // evidence, not enforcement, and must not hold back the login (issue 18, boot time).
    if (starting && timer_.arm_in(0) == 0) return;
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
    timer_.disarm();
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
    // core/firmware grades with info/medium/high; anything else would be a violation.
    Event e = make_event(EventKind::FirmwareAttestation,
                         severity_from_string(a.severity).value_or(Severity::High),
                         a.overall == "violation" ? Outcome::Detected : Outcome::Reported,
                         event_mode(policy_->mode));
    e.rule = "firmware.require";
    e.details = last_;
    e.time = attested_at_;
    Event stored = ctx_.reporter.report_stored(std::move(e));
    last_fingerprint_ = fingerprint;
    last_sent_ = attested_at_;
    last_event_ = {
        {"id", stored.id}, {"seq", stored.seq}, {"time", format_rfc3339_ms(stored.time)}};
  }

  void arm_timer() {
    if (stopped_) return;
    // A failure is logged by the timer; next_at_ then stays at the last planned round.
    if (timer_.arm_in(static_cast<std::uint64_t>(policy_->interval_ms) * 1000) < 0) return;
    next_at_ = now_millis() + policy_->interval_ms;
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
  OneShotTimer timer_;
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
