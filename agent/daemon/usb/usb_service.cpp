// seatlockd's USB lockdown, as the client of seatlock-usbd (docs/usbd-plan.md): usbd enforces;
// seatlockd hands it every accepted policy, records its events (adding the user, seq and prev)
// and answers usb.list / usb.stats / status through it. When no usbd answers on the socket,
// seatlockd starts one as its child.
#include <cstring>

#include "core/usb/usb_classes.hpp"
#include "daemon/service.hpp"
#include "daemon/usb/usbd_link.hpp"
#include "os/base/event_loop.hpp"
#include "os/base/log.hpp"
#include "usbd/channel_wire.hpp"

namespace seatlock {
namespace {

using nlohmann::json;

std::string usbd_socket_path(const DaemonOptions& o) {
  if (!o.usbd_socket.empty()) return o.usbd_socket;
  const auto slash = o.control_socket.rfind('/');
  return (slash == std::string::npos ? std::string(".") : o.control_socket.substr(0, slash)) +
         "/usbd.sock";
}

UsbdLaunch launch_for(const DaemonOptions& o) {
  UsbdLaunch l;
  l.socket = usbd_socket_path(o);
  l.exe = default_usbd_path();
  l.args = {"--policy-dir", o.policy_dir, "--state-dir",      o.state_dir,
            "--socket",     l.socket,     "--sysfs",          o.sysfs_root,
            "--dev",        o.dev_root,   "--udev-rules-dir", o.udev_rules_dir};
  if (!o.seat_id.empty()) l.args.insert(l.args.end(), {"--seat-id", o.seat_id});
  return l;
}

class UsbService : public Service {
 public:
  explicit UsbService(DaemonContext& ctx)
      : ctx_(ctx),
        link_(launch_for(ctx.options)),
        retry_(ctx.loop, CLOCK_MONOTONIC, 100'000, "usb: reconnect to seatlock-usbd",
               [this](std::uint64_t) { reconnect(); }) {
    link_.connect();
    watch();
    ctx_.control.add("usb.list", [this](const json&) { return link_.request("usb.list"); });
    ctx_.control.add("usb.stats", [this](const json&) { return link_.request("usb.stats"); });
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
    effective_ = policy.effective;
    link_.request("policy", {{"policy", effective_}});
    record_events();
  }

  json status() const override {
    try {
      json s = link_.request("status");
      record_events();
      return s;
    } catch (const std::exception& e) {
      return {{"state", "usbd not answering"}, {"error", e.what()}};
    }
  }

  // The seat stays locked: usbd never restores interface_authorized_default. What it is still
  // gathering is recorded before a usbd this seatlockd started is stopped.
  void stop() override {
    io_.reset();
    retry_.disarm();
    try {
      link_.request("flush", json::object(), 2000);
    } catch (const std::exception& e) {
      log_warning(std::string("usb: ") + e.what());
    }
    record_events();
    link_.stop_child();
  }

 private:
  void watch() {
    io_ = add_io_source(ctx_.loop, link_.fd(), EPOLLIN, &UsbService::on_readable, this,
                        "usb: seatlock-usbd events");
    if (int r = sd_event_source_set_priority(io_.get(), SD_EVENT_PRIORITY_IMPORTANT); r < 0)
      log_warning(std::string("usb: cannot raise the usbd priority: ") + strerror(-r));
  }

  static int on_readable(sd_event_source*, int, uint32_t, void* self) {
    auto* s = static_cast<UsbService*>(self);
    const bool open = s->link_.drain();
    s->record_events();
    if (!open) {
      log_warning("usb: seatlock-usbd went away; reconnecting");
      s->io_.reset();
      s->reconnect();
    }
    return 0;
  }

  // Connects again (starting usbd when none answers) and hands it the policy in force; on
  // failure retries in a second.
  void reconnect() {
    try {
      link_.connect();
      watch();
      if (!effective_.is_null()) link_.request("policy", {{"policy", effective_}});
      record_events();
    } catch (const std::exception& e) {
      log_error(std::string("usb: ") + e.what());
      (void)retry_.arm_in(1'000'000);
    }
  }

  void record_events() const {
    for (const json& w : link_.take_events()) {
      std::string error;
      std::optional<Event> e = event_from_wire(w, error);
      if (!e) {
        log_error("usb: an event from seatlock-usbd that does not read (" + error +
                  "): " + w.dump());
        continue;
      }
      try {
        ctx_.reporter.report(std::move(*e));
      } catch (const std::exception& ex) {
        log_error(std::string("usb: cannot record event: ") + ex.what());
      }
    }
  }

  DaemonContext& ctx_;
  mutable UsbdLink link_;  // status() asks usbd
  OneShotTimer retry_;
  json effective_;  // the policy in force, handed again after a reconnection
  EventSource io_;  // last: released first
};

}  // namespace

std::unique_ptr<Service> make_usb_service(DaemonContext& ctx) {
  return std::make_unique<UsbService>(ctx);
}

}  // namespace seatlock
