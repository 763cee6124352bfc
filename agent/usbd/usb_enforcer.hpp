#pragma once
// The USB lockdown in force: turns decisions from core/usb into sysfs writes and events. Loop
// free (the service feeds it uevents and timer ticks), so tests drive it directly.
#include <chrono>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/usb/usb_decision.hpp"
#include "os/events/reporter.hpp"
#include "os/usb/block_devices.hpp"
#include "os/usb/uevent_monitor.hpp"
#include "os/usb/usb_sysfs.hpp"
#include "os/usb/usb_uevent_ids.hpp"

namespace seatlock {

struct UsbEnforcerOptions {
  std::string sys_root = "/sys";
  std::string dev_root = "/dev";
  std::string udev_rules_dir;             // "" = do not write rules
  std::int64_t report_delay_ms = 100;     // gather a plug's interfaces into one event
  std::int64_t replug_quiet_ms = 10'000;  // at most one usb.blocked per device per window
};

// Latency of the decision path, uevent received -> first `authorized` write started.
struct UsbLatencyStats {
  std::vector<std::int64_t> samples_ns;  // bounded ring of the most recent samples
  std::size_t next = 0;
  std::uint64_t total = 0;
  void add(std::int64_t ns);
  nlohmann::json summary() const;  // count, p50_us, p99_us, max_us
};

class UsbEnforcer {
 public:
  using Clock = std::chrono::steady_clock;
  UsbEnforcer(UsbEnforcerOptions options, Reporter& reporter);

  // Puts `policy` in force: writes the udev rules, locks every root hub, re-decides every
  // present device and removable block device. The first call is the start-up sweep.
  void apply(const UsbPolicy& policy, UnixMillis now);
  // One kernel uevent; `received` is when it came off the socket (for the latency figures).
  void handle(const Uevent& ev, UnixMillis now, Clock::time_point received = Clock::now());
  // Re-decides everything against `now`: exceptions that ran out lose their devices.
  void expire(UnixMillis now);
  // Re-reads every present device from sysfs, as after start-up: for when uevents were lost
  // (the monitor's socket overflowed), so nothing learned from events is trusted.
  void rescan(UnixMillis now);
  // Emits the events whose gathering delay has passed. Returns the next deadline, if any.
  std::optional<Clock::time_point> flush_reports(Clock::time_point now = Clock::now());
  // Earliest `until` after `now` among the policy's exceptions (for the expiry timer).
  std::optional<UnixMillis> next_expiry(UnixMillis now) const;

  nlohmann::json list();  // usb.list (reads the strings the plug path left for later)
  nlohmann::json status() const;
  const UsbLatencyStats& latency() const { return latency_; }

 private:
  struct DeviceState {
    UsbDevice device;
    DeviceDecision decision;
    std::string signature;  // which interfaces are allowed; a change means a new finding
    bool report_pending = false;
    bool plug = false;  // pending report belongs to a new plug (vs a policy change)
    Clock::time_point report_at{};
    // What was read no longer matches sysfs (an interface went away, a write failed): the
    // next interface event re-reads the whole device instead of only the new interface.
    bool stale = false;
    // serial, manufacturer, product and interface labels are in `device`: the plug path reads
    // them after the `authorized` writes, and only when an event or a listing needs them.
    bool strings_read = true;
  };
  struct ReportMemo {
    Clock::time_point last{};
    std::uint64_t suppressed = 0;
  };

  void lock_root_hub(const std::string& name);
  void admit_device(UsbDevice& dev);  // device-level authorized=1 (interfaces still decided)
  // `ids` (from the device's uevent) selects the plug path's read: only what the decision
  // needs before the writes; without them the whole device is read from sysfs.
  void decide_device(const std::string& name, UnixMillis now, bool plug,
                     std::optional<Clock::time_point> received = std::nullopt,
                     const UsbUeventIds* ids = nullptr);
  void decide_interface(const std::string& device, const std::string& interface, UnixMillis now,
                        Clock::time_point received, const UsbUeventIds& ids);
  void read_strings(DeviceState& st) const;
  void settle(DeviceState& st, UnixMillis now, bool plug,
              std::optional<Clock::time_point> received);
  void sweep(UnixMillis now, bool plug);
  void enforce(DeviceState& st, std::optional<Clock::time_point> received);
  void handle_block(const std::string& name, UnixMillis now);
  void report_device(DeviceState& st, Clock::time_point now);
  void report_expired(UnixMillis now);
  void report_exception_changes(const UsbPolicy& before, const UsbPolicy& after);
  void write_udev_rules();
  void report_error(const std::string& what, const std::string& error);
  bool enforcing() const { return policy_.mode == Mode::Enforce; }
  static std::string device_key(const UsbDevice& d);

  UsbEnforcerOptions opt_;
  Reporter& reporter_;
  UsbSysfs sysfs_;
  UsbPolicy policy_;
  bool applied_ = false;
  std::map<std::string, DeviceState> devices_;  // by port ("1-2")
  std::map<std::string, ReportMemo> memos_;     // by device_key
  std::set<std::string> expired_reported_;
  std::vector<std::string> errors_;  // recent write errors, for status
  std::string rules_state_ = "not written";
  UsbLatencyStats latency_;
};

}  // namespace seatlock
