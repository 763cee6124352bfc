// seatlockd's USB lockdown: a kernel uevent monitor, the exception-expiry timer and the
// report-gathering timer on the daemon loop, all decisions and writes in UsbEnforcer.
#include <cstring>
#include <ctime>

#include "core/usb/usb_classes.hpp"
#include "daemon/service.hpp"
#include "usbd/usb_enforcer.hpp"
#include "os/base/event_loop.hpp"
#include "os/base/log.hpp"

namespace seatlock {
namespace {

using nlohmann::json;

class UsbService : public Service {
 public:
  explicit UsbService(DaemonContext& ctx)
      : ctx_(ctx),
        enforcer_({ctx.options.sysfs_root, ctx.options.dev_root, ctx.options.udev_rules_dir},
                  ctx.reporter),
        // Exception expiry is a realtime timer at the next `until` (not polling).
        expiry_(ctx.loop, CLOCK_REALTIME, 1000, "usb: exception expiry",
                [this](std::uint64_t due) { on_expiry(due); }),
        flush_(ctx.loop, CLOCK_MONOTONIC, 1000, "usb: report gathering",
               [this](std::uint64_t) { arm_flush(); }) {
    // Listen before the start-up sweep so nothing plugged in between is missed.
    monitor_ = std::make_unique<UeventMonitor>();
    io_ = add_io_source(ctx_.loop, monitor_->fd(), EPOLLIN, &UsbService::on_uevent, this,
                        "usb: kernel uevents");
    if (int r = sd_event_source_set_priority(io_.get(), SD_EVENT_PRIORITY_IMPORTANT); r < 0)
      throw std::runtime_error("usb: cannot raise the uevent priority: " +
                               std::string(strerror(-r)));
    ctx_.control.add("usb.list", [this](const json&) { return enforcer_.list(); });
    ctx_.control.add("usb.stats", [this](const json&) { return enforcer_.latency().summary(); });
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
    sd_event_source_set_enabled(io_.get(), SD_EVENT_OFF);
    expiry_.disarm();
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
    if (s->monitor_->take_overflow()) {  // events were lost: trust sysfs, not what we learned
      try {
        s->enforcer_.rescan(now_millis());
      } catch (const std::exception& e) {
        log_error(std::string("usb: re-reading devices after lost uevents: ") + e.what());
      }
    }
    s->arm_flush();
    return 0;
  }

  void on_expiry(std::uint64_t due_usec) {
    // Never decide before the deadline even if the clock read lags the timer.
    enforcer_.expire(std::max<UnixMillis>(now_millis(), static_cast<UnixMillis>(due_usec / 1000)));
    arm_expiry();
    arm_flush();
  }

  void arm_expiry() {
    auto next = enforcer_.next_expiry(now_millis());
    if (!next) {
      expiry_.disarm();
      return;
    }
    (void)expiry_.arm_at(static_cast<std::uint64_t>(*next) * 1000);  // a failure is logged
  }

  // Emits due reports and re-arms for the next one.
  void arm_flush() {
    auto next = enforcer_.flush_reports();
    if (!next) return;
    const auto delta =
        std::chrono::duration_cast<std::chrono::microseconds>(*next - UsbEnforcer::Clock::now());
    (void)flush_.arm_in(static_cast<std::uint64_t>(std::max<std::int64_t>(delta.count(), 0)));
  }

  DaemonContext& ctx_;
  UsbEnforcer enforcer_;
  OneShotTimer expiry_;
  OneShotTimer flush_;
  std::unique_ptr<UeventMonitor> monitor_;
  EventSource io_;  // last: released first, before the monitor whose fd it watches
};

}  // namespace

std::unique_ptr<Service> make_usb_service(DaemonContext& ctx) {
  return std::make_unique<UsbService>(ctx);
}

}  // namespace seatlock
