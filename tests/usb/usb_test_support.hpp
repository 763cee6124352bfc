#pragma once
// In-process harness for the USB enforcer: a umockdev testbed, a real kernel-source uevent
// monitor, an in-memory event sink and a Reporter with a fixed seat user.
#include <poll.h>

#include <memory>
#include <string>
#include <vector>

#include "core/event/sink.hpp"
#include "os/usb/uevent_monitor.hpp"
#include "usb/usb_testbed.hpp"
#include "usbd/usb_enforcer.hpp"

namespace seatlock::test {

class MemorySink : public EventSink {
 public:
  Event append(Event draft) override {
    draft.seq = events.size() + 1;
    events.push_back(draft);
    return draft;
  }
  std::vector<Event> of_kind(const std::string& kind) const {
    std::vector<Event> out;
    for (const auto& e : events)
      if (e.kind == kind) out.push_back(e);
    return out;
  }
  std::vector<Event> events;
};

// An exception for the serial of catalog::kingston_stick() (0951:1666), for `ticket`.
inline UsbException kingston_exception(const std::string& ticket, UnixMillis until) {
  UsbException x;
  x.vid = "0951";
  x.pid = "1666";
  x.serial = "E0D55EA573DCF450E97B0C5A";
  x.until = until;
  x.ticket = ticket;
  x.source = "policy.d/80-usb-exception-" + ticket + ".json";
  return x;
}

struct UsbHarness {
  explicit UsbHarness(UsbEnforcerOptions extra = {}) {
    extra.sys_root = tb.sys_root();
    if (extra.dev_root == "/dev") extra.dev_root = tb.sys_root() + "/../dev";
    extra.report_delay_ms = 0;
    enforcer = std::make_unique<UsbEnforcer>(extra, reporter);
  }
  // Delivers every queued uevent to the enforcer, then emits the gathered reports.
  int pump(UnixMillis now) {
    int n = 0;
    for (;;) {
      pollfd p{monitor.fd(), POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) break;
      while (auto ev = monitor.receive()) {
        enforcer->handle(*ev, now);
        ++n;
      }
    }
    enforcer->flush_reports(UsbEnforcer::Clock::now() + std::chrono::hours(1));
    return n;
  }

  UsbTestbed tb;
  UeventMonitor monitor;
  MemorySink sink;
  Reporter reporter{sink, SeatIdentity{"cc-test-01", "seat01"}, [] {
                      return std::optional<UserRef>(UserRef{"zhang.wei", 1001});
                    }};
  std::unique_ptr<UsbEnforcer> enforcer;
};

}  // namespace seatlock::test
