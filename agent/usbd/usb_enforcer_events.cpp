// UsbEnforcer's events: usb.blocked and usb.exception_used gathered per plug (flush_reports),
// usb.storage_detected for a block device (handle_block: detached, or set read-only under an
// exception), and the exception lifecycle (added, removed, expired). Enforcement itself is in
// usb_enforcer.cpp.
#include <map>

#include "core/event/kinds.hpp"
#include "core/policy/event_mode.hpp"
#include "os/base/clock.hpp"
#include "os/base/log.hpp"
#include "usbd/usb_enforcer.hpp"

namespace seatlock {

namespace {

void send(Reporter& reporter, Event e) {
  try {
    reporter.report(std::move(e));
  } catch (const std::exception& ex) {
    log_error(std::string("usb: cannot record event: ") + ex.what());
  }
}

std::string exception_id(const UsbException& e) {
  return e.source + "|" + e.ticket + "|" + e.vid + ":" + e.pid + ":" + e.serial.value_or("*") +
         "@" + e.port.value_or("*") + "|" + std::to_string(e.until);
}

nlohmann::json exception_json(const UsbException& e) {
  nlohmann::json j = {{"ticket", e.ticket},
                      {"vid", e.vid},
                      {"pid", e.pid},
                      {"until", format_rfc3339_ms(e.until)},
                      {"read_only", e.read_only},
                      {"source", e.source}};
  if (e.serial) j["serial"] = *e.serial;
  if (e.port) j["port"] = *e.port;
  return j;
}

}  // namespace

void UsbEnforcer::handle_block(const std::string& name, UnixMillis now) {
  std::optional<BlockDevice> b = read_block_device(opt_.sys_root, name);
  if (!b || !b->is_storage_candidate()) return;
  std::optional<UsbException> exc;
  const UsbDevice* owner = nullptr;
  if (!b->usb_interface.empty()) {
    const std::string port = b->usb_device();
    if (!devices_.count(port)) decide_device(port, now, false);
    auto it = devices_.find(port);
    if (it != devices_.end()) {
      read_strings(it->second);
      owner = &it->second.device;
      exc = it->second.decision.exception;
    }
  }
  if (b->partition && !(exc && exc->read_only)) return;  // the disk's own event decides

  // Severity and outcome depend on what happens below; set as strings through the enums.
  Event e = make_event(EventKind::UsbStorageDetected, Outcome::Detected, event_mode(policy_.mode));
  auto set = [&e](Severity severity, Outcome outcome) {
    e.severity = to_string(severity);
    e.outcome = to_string(outcome);
  };
  e.details = {{"block", b->name},
               {"removable", b->removable},
               {"usb_interface", b->usb_interface},
               {"path", b->mmc_card.empty() ? (b->usb_interface.empty() ? "scsi" : "usb") : "mmc"}};
  if (owner)
    e.details["device"] = {{"vid", owner->vid},
                           {"pid", owner->pid},
                           {"serial", owner->serial},
                           {"product", owner->product},
                           {"port", owner->port}};
  if (exc) {
    set(Severity::Medium, Outcome::Allowed);
    e.rule = "usb.exceptions";
    e.details["exception"] = exception_json(*exc);
    if (exc->read_only) {
      try {
        set_block_read_only(opt_.dev_root, b->name);
        e.details["read_only"] = "set";
      } catch (const std::exception& ex) {
        report_error("read-only " + b->name, ex.what());
        e.details["read_only"] = std::string("failed: ") + ex.what();
        set(Severity::High, Outcome::Allowed);
      }
    }
  } else {
    set(Severity::High, Outcome::Detected);
    e.rule = "usb.storage";
    if (enforcing()) {
      try {
        e.details["action"] = detach_block_device(opt_.sys_root, *b);
        set(Severity::High, Outcome::Blocked);
      } catch (const std::exception& ex) {
        report_error("detach " + b->name, ex.what());
        e.details["action"] = std::string("failed: ") + ex.what();
        set(Severity::Critical, Outcome::Detected);
      }
    }
  }
  send(reporter_, std::move(e));
}

std::optional<UsbEnforcer::Clock::time_point> UsbEnforcer::flush_reports(Clock::time_point now) {
  std::optional<Clock::time_point> next;
  for (auto& [name, st] : devices_) {
    if (!st.report_pending) continue;
    if (st.report_at <= now)
      report_device(st, now);
    else if (!next || st.report_at < *next)
      next = st.report_at;
  }
  return next;
}

void UsbEnforcer::report_device(DeviceState& st, Clock::time_point now) {
  st.report_pending = false;
  read_strings(st);  // settle read them already unless the device was allowed then
  const DeviceDecision& d = st.decision;
  nlohmann::json details = usb_event_details(st.device, d, enforcing());
  details["trigger"] = st.plug ? "plug" : "policy";
  if (d.exception) {
    Event e = make_event(EventKind::UsbExceptionUsed, Outcome::Allowed, event_mode(policy_.mode));
    e.rule = "usb.exceptions";
    e.details = details;
    send(reporter_, std::move(e));
    return;
  }
  if (!d.any_blocked()) return;
  ReportMemo& memo = memos_[device_key(st.device)];
  const bool quiet = memo.last != Clock::time_point{} &&
                     now - memo.last < std::chrono::milliseconds(opt_.replug_quiet_ms);
  if (st.plug && quiet) {  // replug storm: count, report with the next event
    ++memo.suppressed;
    return;
  }
  details["suppressed_plugs"] = memo.suppressed;
  memo.suppressed = 0;
  memo.last = now;
  Event e = make_event(EventKind::UsbBlocked, enforcing() ? Outcome::Blocked : Outcome::Reported,
                       event_mode(policy_.mode));
  e.rule = d.rule();
  e.details = std::move(details);
  send(reporter_, std::move(e));
}

void UsbEnforcer::report_expired(UnixMillis now) {
  for (const auto& x : policy_.exceptions) {
    if (x.until > now || !expired_reported_.insert(exception_id(x)).second) continue;
    nlohmann::json devices = nlohmann::json::array();
    for (auto& [name, st] : devices_) {
      if (st.device.vid != x.vid || st.device.pid != x.pid) continue;
      read_strings(st);
      if ((x.serial && *x.serial != st.device.serial) || (x.port && *x.port != st.device.port))
        continue;
      devices.push_back(usb_event_details(st.device, st.decision, enforcing()));
    }
    const Outcome outcome =
        devices.empty() ? Outcome::Reported : (enforcing() ? Outcome::Blocked : Outcome::Reported);
    Event e = make_event(EventKind::UsbExceptionExpired, outcome, event_mode(policy_.mode));
    e.rule = "usb.exceptions";
    e.details = {{"exception", exception_json(x)}, {"devices", devices}};
    send(reporter_, std::move(e));
  }
}

void UsbEnforcer::report_exception_changes(const UsbPolicy& before, const UsbPolicy& after) {
  auto ids = [](const UsbPolicy& p) {
    std::map<std::string, const UsbException*> m;
    for (const auto& e : p.exceptions) m[exception_id(e)] = &e;
    return m;
  };
  auto a = ids(before), b = ids(after);
  for (const auto& [id, x] : b) {
    if (a.count(id)) continue;
    Event e = make_event(EventKind::UsbExceptionAdded, Outcome::Reported, event_mode(policy_.mode));
    e.rule = "usb.exceptions";
    e.details = {{"exception", exception_json(*x)}};
    send(reporter_, std::move(e));
  }
  for (const auto& [id, x] : a) {
    if (b.count(id) || x->until <= now_millis()) continue;  // expiry has its own event
    Event e =
        make_event(EventKind::UsbExceptionRemoved, Outcome::Reported, event_mode(policy_.mode));
    e.rule = "usb.exceptions";
    e.details = {{"exception", exception_json(*x)}};
    send(reporter_, std::move(e));
  }
}

}  // namespace seatlock
