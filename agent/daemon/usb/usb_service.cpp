// seatlockd's USB lockdown, as the client of seatlock-usbd (docs/usbd.md): usbd enforces;
// seatlockd hands it every accepted policy, records its events (adding the user, seq and prev)
// and answers usb.list / usb.stats / status through it. When no usbd answers on the socket,
// seatlockd starts one as its child, unless SEATLOCK_USBD=connect (seatlockd.service: the usbd
// is seatlock-usbd.service's), then it waits for the unit's.
#include <cstdlib>
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
  // seatlockd.service sets it: usbd is seatlock-usbd.service's, which may be restarting.
  // (An environment variable, not a flag: the unit is the only one that needs it.)
  const char* mode = std::getenv("SEATLOCK_USBD");
  l.spawn = mode == nullptr || std::strcmp(mode, "connect") != 0;
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
    // usbd loads the document itself (it may be another build, e.g. during an upgrade): what
    // it would refuse is refused here, before any service applies anything. A usbd that is not
    // there yet gets the policy when it comes back (reconnect()), checked then.
    if (!link_.connected()) return;
    try {
      link_.request("check", {{"policy", policy.effective}});
    } catch (const std::runtime_error& e) {
      // A usbd older than the check op (mid-upgrade) says so; its apply still validates.
      if (std::strstr(e.what(), "unknown op") == nullptr) throw;
    }
  }

  void apply(const Policy& policy) override {
    effective_ = policy.effective;
    link_.request("policy", {{"policy", effective_}});
    record_events();
  }

  json status() const override {
    try {
      // Not connected: say so at once rather than wait for (or start) a usbd from here.
      if (!link_.connected()) return {{"state", "usbd not answering"}};
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
      if (link_.connected()) link_.request("flush", json::object(), 2000);  // no waiting for one
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
  // failure retries in a second. A unit's usbd that is restarting gets half a second per try,
  // so seatlockd's loop (control socket, watchdog) is never held longer.
  void reconnect() {
    try {
      link_.connect(500);
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
