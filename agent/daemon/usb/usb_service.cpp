// seatlockd's USB lockdown: a kernel uevent monitor, the exception-expiry timer and the
// report-gathering timer on the daemon loop, all decisions and writes in UsbEnforcer.
#include <cstring>
#include <ctime>

#include "core/usb/usb_classes.hpp"
#include "daemon/service.hpp"
#include "daemon/usb/usb_enforcer.hpp"
#include "os/base/log.hpp"

namespace seatlock {
namespace {

using nlohmann::json;

class UsbService : public Service {
 public:
  explicit UsbService(DaemonContext& ctx)
      : ctx_(ctx),
        enforcer_({ctx.options.sysfs_root, ctx.options.dev_root, ctx.options.udev_rules_dir},
                  ctx.reporter) {
    // Listen before the start-up sweep so nothing plugged in between is missed.
    monitor_ = std::make_unique<UeventMonitor>();
    int r = sd_event_add_io(ctx_.loop, &io_, monitor_->fd(), EPOLLIN, &UsbService::on_uevent, this);
    if (r < 0) throw std::runtime_error("usb: cannot watch uevents: " + std::string(strerror(-r)));
    sd_event_source_set_priority(io_, SD_EVENT_PRIORITY_IMPORTANT);
    ctx_.control.add("usb.list", [this](const json&) { return enforcer_.list(); });
    ctx_.control.add("usb.stats", [this](const json&) { return enforcer_.latency().summary(); });
  }
  ~UsbService() override {
    sd_event_source_disable_unref(io_);
    sd_event_source_disable_unref(expiry_);
    sd_event_source_disable_unref(flush_);
  }

  std::string name() const override { return "usb"; }

  void check(const Policy& policy) override {
    auto problems = check_allow_classes(policy.usb.allow_classes);
    if (!problems.empty()) {
      std::string all;
      for (const auto& p : problems) all += (all.empty() ? "" : "; ") + p;
      throw std::runtime_error(all);
    }
  }

  void apply(const Policy& policy) override {
    enforcer_.apply(policy.usb, now_millis());
    arm_expiry();
    arm_flush();
  }

  json status() const override { return enforcer_.status(); }

  // The seat stays locked: stop listening, never restore interface_authorized_default.
  void stop() override {
    sd_event_source_set_enabled(io_, SD_EVENT_OFF);
    sd_event_source_set_enabled(expiry_, SD_EVENT_OFF);
    enforcer_.flush_reports(UsbEnforcer::Clock::time_point::max());
  }

 private:
  static int on_uevent(sd_event_source*, int, uint32_t, void* self) {
    auto* s = static_cast<UsbService*>(self);
    for (;;) {
      const auto received = UsbEnforcer::Clock::now();  // the uevent has reached seatlockd
      auto ev = s->monitor_->receive();
      if (!ev) break;
      try {
        s->enforcer_.handle(*ev, now_millis(), received);
      } catch (const std::exception& e) {
        log_error("usb: " + ev->action + " " + ev->syspath + ": " + e.what());
      }
    }
    s->arm_flush();
    return 0;
  }

  static int on_expiry(sd_event_source*, uint64_t usec, void* self) {
    auto* s = static_cast<UsbService*>(self);
    // Never decide before the deadline even if the clock read lags the timer.
    s->enforcer_.expire(std::max<UnixMillis>(now_millis(), static_cast<UnixMillis>(usec / 1000)));
    s->arm_expiry();
    s->arm_flush();
    return 0;
  }

  static int on_flush(sd_event_source*, uint64_t, void* self) {
    static_cast<UsbService*>(self)->arm_flush();
    return 0;
  }

  // Exception expiry is a realtime timer at the next `until` (not polling).
  void arm_expiry() {
    auto next = enforcer_.next_expiry(now_millis());
    if (!next) {
      if (expiry_) sd_event_source_set_enabled(expiry_, SD_EVENT_OFF);
      return;
    }
    const uint64_t at = static_cast<uint64_t>(*next) * 1000;
    if (!expiry_) {
      sd_event_add_time(ctx_.loop, &expiry_, CLOCK_REALTIME, at, 1000, &UsbService::on_expiry,
                        this);
    } else {
      sd_event_source_set_time(expiry_, at);
    }
    if (expiry_) sd_event_source_set_enabled(expiry_, SD_EVENT_ONESHOT);
  }

  // Emits due reports and re-arms for the next one.
  void arm_flush() {
    auto next = enforcer_.flush_reports();
    if (!next) return;
    const auto delta =
        std::chrono::duration_cast<std::chrono::microseconds>(*next - UsbEnforcer::Clock::now());
    uint64_t now_us = 0;
    sd_event_now(ctx_.loop, CLOCK_MONOTONIC, &now_us);
    const uint64_t at = now_us + static_cast<uint64_t>(std::max<std::int64_t>(delta.count(), 0));
    if (!flush_) {
      sd_event_add_time(ctx_.loop, &flush_, CLOCK_MONOTONIC, at, 1000, &UsbService::on_flush, this);
    } else {
      sd_event_source_set_time(flush_, at);
    }
    if (flush_) sd_event_source_set_enabled(flush_, SD_EVENT_ONESHOT);
  }

  DaemonContext& ctx_;
  UsbEnforcer enforcer_;
  std::unique_ptr<UeventMonitor> monitor_;
  sd_event_source* io_ = nullptr;
  sd_event_source* expiry_ = nullptr;
  sd_event_source* flush_ = nullptr;
};

}  // namespace

std::unique_ptr<Service> make_usb_service(DaemonContext& ctx) {
  return std::make_unique<UsbService>(ctx);
}

}  // namespace seatlock
