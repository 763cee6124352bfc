#include "usbd/usb_enforcer.hpp"

#include <algorithm>

#include "core/usb/usb_udev_rules.hpp"
#include "os/base/log.hpp"
#include "os/usb/udev_rules_file.hpp"

namespace seatlock {

// ---- latency figures --------------------------------------------------------------------------
void UsbLatencyStats::add(std::int64_t ns) {
  constexpr std::size_t kKeep = 4096;
  if (samples_ns.size() < kKeep)
    samples_ns.push_back(ns);
  else
    samples_ns[next] = ns;
  next = (next + 1) % kKeep;
  ++total;
}

nlohmann::json UsbLatencyStats::summary() const {
  if (samples_ns.empty()) return {{"count", 0}};
  std::vector<std::int64_t> s = samples_ns;
  std::sort(s.begin(), s.end());
  auto pct = [&](double p) {
    return static_cast<double>(s[static_cast<std::size_t>(p * (s.size() - 1))]) / 1000.0;
  };
  return {{"count", total},
          {"window", s.size()},
          {"p50_us", pct(0.50)},
          {"p99_us", pct(0.99)},
          {"max_us", static_cast<double>(s.back()) / 1000.0}};
}

// ---- enforcer ---------------------------------------------------------------------------------
UsbEnforcer::UsbEnforcer(UsbEnforcerOptions options, Reporter& reporter)
    : opt_(std::move(options)), reporter_(reporter), sysfs_(opt_.sys_root) {}

std::string UsbEnforcer::device_key(const UsbDevice& d) {
  return d.vid + ":" + d.pid + ":" + d.serial + "@" + d.port;
}

void UsbEnforcer::report_error(const std::string& what, const std::string& error) {
  log_error("usb: " + what + ": " + error);
  errors_.push_back(what + ": " + error);
  if (errors_.size() > 20) errors_.erase(errors_.begin());
}

void UsbEnforcer::apply(const UsbPolicy& policy, UnixMillis now) {
  const UsbPolicy before = policy_;
  const bool first = !applied_;
  policy_ = policy;
  applied_ = true;
  write_udev_rules();
  sweep(now, first);
  if (!first) report_exception_changes(before, policy_);
  report_expired(now);
}

void UsbEnforcer::rescan(UnixMillis now) {
  if (applied_) sweep(now, false);
}

void UsbEnforcer::sweep(UnixMillis now, bool plug) {
  for (const auto& hub : sysfs_.root_hubs()) lock_root_hub(hub);
  std::set<std::string> present;
  for (const auto& name : sysfs_.device_names()) {
    present.insert(name);
    decide_device(name, now, plug);
  }
  for (auto it = devices_.begin(); it != devices_.end();)
    it = present.count(it->first) ? std::next(it) : devices_.erase(it);
  for (const auto& name : block_device_names(opt_.sys_root)) handle_block(name, now);
}

void UsbEnforcer::lock_root_hub(const std::string& name) {
  try {
    if (!sysfs_.interfaces_locked_by_default(name))
      sysfs_.set_interface_authorized_default(name, false);
  } catch (const std::exception& e) {
    report_error("lock root hub " + name, e.what());
  }
}

// With usbcore.authorized_default=0 (seatlockctl setup boot) the kernel holds back whole
// devices, so their interfaces never appear to be decided and even a keyboard stays dead.
// seatlockd decides per interface: let the device configure (its root hub is locked first, so
// every interface arrives unauthorized), then the interfaces' own uevents are decided as usual.
void UsbEnforcer::admit_device(UsbDevice& dev) {
  const std::string& name = dev.port;
  if (dev.authorized || dev.is_root_hub() || name.find(':') != std::string::npos) return;
  lock_root_hub("usb" + name.substr(0, name.find('-')));
  try {
    sysfs_.set_device_authorized(name, true);
    dev.authorized = true;
  } catch (const std::exception& e) {
    report_error("admit device " + name, e.what());
  }
}

void UsbEnforcer::handle(const Uevent& ev, UnixMillis now, Clock::time_point received) {
  if (!applied_) return;  // nothing decided before the first policy; the start-up sweep covers it
  const bool add = ev.action == "add";
  if (ev.subsystem == "usb") {
    const bool itf = ev.devtype == "usb_interface" || ev.sysname.find(':') != std::string::npos;
    const std::string dev = itf ? usb_device_of_interface(ev.sysname) : ev.sysname;
    if (ev.action == "remove") {
      auto it = devices_.find(dev);
      if (it == devices_.end()) return;
      if (itf) {  // a configuration change may bring a different interface under this name
        it->second.stale = true;
        return;
      }
      if (it->second.report_pending)
        report_device(it->second, received);  // a plug too short to wait for
      devices_.erase(it);
      return;
    }
    if (ev.action != "add" && ev.action != "change" && ev.action != "bind") return;
    if (!itf && dev.rfind("usb", 0) == 0) lock_root_hub(dev);
    const UsbUeventIds ids = usb_uevent_ids(ev);
    if (itf && add)
      decide_interface(dev, ev.sysname, now, received, ids);
    else
      decide_device(dev, now, add, received, itf ? nullptr : &ids);
  } else if (ev.subsystem == "block" && (add || ev.action == "change")) {
    handle_block(ev.sysname, now);
  }
}

void UsbEnforcer::decide_device(const std::string& name, UnixMillis now, bool plug,
                                std::optional<Clock::time_point> received,
                                const UsbUeventIds* ids) {
  std::optional<UsbDevice> dev =
      ids ? sysfs_.read_device_for_decision(name, *ids) : sysfs_.read_device(name);
  if (!dev) {
    devices_.erase(name);
    return;
  }
  bool strings_read = !ids;
  if (!strings_read && decision_needs_serial(*dev, policy_)) {  // an exception may name it
    sysfs_.read_device_strings(*dev);
    strings_read = true;
  }
  admit_device(*dev);
  DeviceState& st = devices_[name];
  st.device = std::move(*dev);
  st.strings_read = strings_read;
  st.stale = false;
  settle(st, now, plug, received);
}

void UsbEnforcer::read_strings(DeviceState& st) const {
  if (st.strings_read) return;
  sysfs_.read_device_strings(st.device);
  st.strings_read = true;
}

// The kernel announces a device before its interfaces; the device's own event usually finds
// them already there (then this one has nothing left to do), otherwise only the new interface
// is read: the device's identity was read at its "add" and a "remove" would have dropped it.
void UsbEnforcer::decide_interface(const std::string& device, const std::string& interface,
                                   UnixMillis now, Clock::time_point received,
                                   const UsbUeventIds& ids) {
  auto it = devices_.find(device);
  if (it == devices_.end() || it->second.stale) {
    decide_device(device, now, true, received);
    return;
  }
  DeviceState& st = it->second;
  auto& itfs = st.device.interfaces;
  if (std::any_of(itfs.begin(), itfs.end(), [&](const auto& i) { return i.name == interface; }))
    return;  // decided and enforced when the device was read
  std::optional<UsbInterface> itf = sysfs_.read_interface(interface, &ids);
  if (!itf) return;
  auto at =
      std::find_if(itfs.begin(), itfs.end(), [&](const auto& i) { return i.number > itf->number; });
  itfs.insert(at, std::move(*itf));
  settle(st, now, true, received);
}

// Decides the device as now read, enforces it and schedules its report.
void UsbEnforcer::settle(DeviceState& st, UnixMillis now, bool plug,
                         std::optional<Clock::time_point> received) {
  st.decision = decide_usb(st.device, policy_, now);
  enforce(st, received);

  std::string sig = st.decision.exception ? "x:" + st.decision.exception->ticket + ";" : "";
  for (const auto& d : st.decision.interfaces) sig += d.name + (d.allow ? "+" : "-") + ";";
  const bool changed = sig != st.signature;
  st.signature = sig;
  const bool noteworthy = st.decision.any_blocked() || st.decision.exception.has_value();
  // Read now, after the writes, while the device is surely there: its report may come late.
  if (noteworthy) read_strings(st);
  if (noteworthy && (changed || (plug && !st.report_pending))) {
    if (!st.report_pending) st.plug = plug;
    st.report_pending = true;
    st.report_at =
        (received ? *received : Clock::now()) + std::chrono::milliseconds(opt_.report_delay_ms);
  }
}

void UsbEnforcer::enforce(DeviceState& st, std::optional<Clock::time_point> received) {
  bool timed = false;
  for (auto& itf : st.device.interfaces) {
    const InterfaceDecision* d = st.decision.find(itf.name);
    const bool want = (d && d->allow) || !enforcing();
    if (want == itf.authorized) continue;
    if (received && !timed) {
      latency_.add(
          std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - *received).count());
      timed = true;
    }
    try {
      sysfs_.set_interface_authorized(itf.name, want);
      itf.authorized = want;
      if (want) sysfs_.probe(itf.name);  // binding an authorized interface needs a probe
    } catch (const std::exception& e) {
      report_error(std::string(want ? "authorize " : "deauthorize ") + itf.name, e.what());
      st.stale = true;  // the next event for this device re-reads and retries
    }
  }
}

void UsbEnforcer::expire(UnixMillis now) {
  for (const auto& name : sysfs_.device_names()) {
    auto it = devices_.find(name);
    const bool had_exception = it != devices_.end() && it->second.decision.exception;
    if (!had_exception) continue;
    decide_device(name, now, false);
    auto& st = devices_[name];
    if (!st.decision.exception) st.report_pending = false;  // usb.exception_expired says it
  }
  report_expired(now);
}

std::optional<UnixMillis> UsbEnforcer::next_expiry(UnixMillis now) const {
  std::optional<UnixMillis> next;
  for (const auto& e : policy_.exceptions)
    if (e.until > now && (!next || e.until < *next)) next = e.until;
  return next;
}

void UsbEnforcer::write_udev_rules() {
  if (opt_.udev_rules_dir.empty()) return;
  try {
    const std::string rules = generate_usb_udev_rules(policy_);
    rules_state_ = "written to " + install_usb_udev_rules(opt_.udev_rules_dir, rules);
  } catch (const std::exception& e) {
    rules_state_ = std::string("failed: ") + e.what();
    report_error("udev rules", e.what());
  }
}

nlohmann::json UsbEnforcer::list() {
  nlohmann::json devices = nlohmann::json::array();
  for (auto& [name, st] : devices_) {
    read_strings(st);
    nlohmann::json d = usb_event_details(st.device, st.decision, enforcing());
    for (std::size_t i = 0; i < st.device.interfaces.size() && i < d["interfaces"].size(); ++i)
      d["interfaces"][i]["authorized"] = st.device.interfaces[i].authorized;  // what sysfs says now
    d["root_hub"] = st.device.is_root_hub();
    devices.push_back(std::move(d));
  }
  return {{"mode", to_string(policy_.mode)}, {"devices", std::move(devices)}};
}

nlohmann::json UsbEnforcer::status() const {
  std::size_t blocked = 0;
  for (const auto& [n, st] : devices_) blocked += st.decision.any_blocked() ? 1 : 0;
  return {{"state", applied_ ? "running" : "waiting for policy"},
          {"mode", to_string(policy_.mode)},
          {"devices", devices_.size()},
          {"devices_with_blocked_interfaces", blocked},
          {"udev_rules", rules_state_},
          {"recent_errors", errors_},
          {"latency", latency_.summary()}};
}

}  // namespace seatlock
