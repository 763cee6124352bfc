#include "core/usb/usb_decision.hpp"

#include <algorithm>

namespace seatlock {

bool DeviceDecision::any_blocked() const {
  return std::any_of(interfaces.begin(), interfaces.end(), [](const auto& i) { return !i.allow; });
}
bool DeviceDecision::any_allowed() const {
  return std::any_of(interfaces.begin(), interfaces.end(), [](const auto& i) { return i.allow; });
}
bool DeviceDecision::any_storage() const {
  return std::any_of(interfaces.begin(), interfaces.end(),
                     [](const auto& i) { return i.klass.storage != StorageKind::None; });
}
std::string DeviceDecision::rule() const {
  for (const auto& i : interfaces)
    if (!i.allow) return i.rule;
  if (exception) return "usb.exceptions";
  return "usb.classes";
}
const InterfaceDecision* DeviceDecision::find(const std::string& interface_name) const {
  for (const auto& i : interfaces)
    if (i.name == interface_name) return &i;
  return nullptr;
}

namespace {

bool same_model(const UsbDevice& dev, const UsbException& e) {
  return dev.vid == e.vid && dev.pid == e.pid;
}

// Empty string = matches; otherwise why not (for `usb list` and events).
std::string exception_mismatch(const UsbDevice& dev, const UsbException& e, UnixMillis now) {
  const std::string who = "exception " + e.ticket + " (" + e.source + ")";
  if (e.serial && *e.serial != dev.serial)
    return who + " is for serial \"" + *e.serial + "\", device has \"" + dev.serial + "\"";
  if (e.port && *e.port != dev.port)
    return who + " is for port " + *e.port + ", device is on " + dev.port;
  if (e.until <= now) return who + " expired at " + format_rfc3339_ms(e.until);
  return "";
}

}  // namespace

bool decision_needs_serial(const UsbDevice& dev, const UsbPolicy& policy) {
  return std::any_of(policy.exceptions.begin(), policy.exceptions.end(),
                     [&](const UsbException& e) { return same_model(dev, e); });
}

std::optional<UsbException> find_exception(const UsbDevice& dev, const UsbPolicy& policy) {
  for (const auto& e : policy.exceptions) {
    if (!same_model(dev, e)) continue;
    if (e.serial && *e.serial != dev.serial) continue;
    if (e.port && *e.port != dev.port) continue;
    return e;
  }
  return std::nullopt;
}

DeviceDecision decide_usb(const UsbDevice& dev, const UsbPolicy& policy, UnixMillis now) {
  DeviceDecision out;
  for (const auto& e : policy.exceptions) {
    if (!same_model(dev, e)) continue;
    std::string miss = exception_mismatch(dev, e, now);
    if (miss.empty()) {
      out.exception = e;
      break;
    }
    out.exception_misses.push_back(std::move(miss));
  }
  if (out.exception) out.exception_misses.clear();

  for (const auto& itf : dev.interfaces) {
    InterfaceDecision d;
    d.name = itf.name;
    d.number = itf.number;
    d.klass = classify_interface(dev, itf);
    const std::string label = d.klass.label + " (" + class_triple(itf) + ")";
    if (out.exception) {
      d.allow = true;
      d.rule = "usb.exceptions";
      d.reason = "exception " + out.exception->ticket + " until " +
                 format_rfc3339_ms(out.exception->until) +
                 (out.exception->read_only ? " (read-only)" : "");
    } else if (d.klass.storage != StorageKind::None) {
      d.rule = "usb.storage";
      d.reason = d.klass.storage_why + ": " + to_string(d.klass.storage) +
                 "-like interfaces need a device exception";
    } else if (!d.klass.name.empty() &&
               std::find(policy.allow_classes.begin(), policy.allow_classes.end(), d.klass.name) !=
                   policy.allow_classes.end()) {
      d.allow = true;
      d.rule = "usb.classes";
      d.reason = "class " + d.klass.name + " is allowed";
    } else {
      d.rule = "usb.classes";
      d.reason = d.klass.name.empty()
                     ? label + " is not covered by any allowable class name"
                     : label + ": class " + d.klass.name + " is not in usb.allow_classes";
    }
    out.interfaces.push_back(std::move(d));
  }
  return out;
}

nlohmann::json usb_event_details(const UsbDevice& dev, const DeviceDecision& d, bool enforced) {
  nlohmann::json itfs = nlohmann::json::array();
  for (const auto& itf : dev.interfaces) {
    const InterfaceDecision* id = d.find(itf.name);
    const bool allow = id ? id->allow : false;
    nlohmann::json j = {{"n", itf.number},
                        {"class", hex2(itf.cls)},
                        {"subclass", hex2(itf.subclass)},
                        {"protocol", hex2(itf.protocol)},
                        {"name", id ? id->klass.label : ""},
                        {"interface", itf.label},
                        {"authorized", allow || !enforced},
                        {"decision", allow ? "allow" : "block"},
                        {"rule", id ? id->rule : ""},
                        {"reason", id ? id->reason : ""}};
    itfs.push_back(std::move(j));
  }
  nlohmann::json out = {{"vid", dev.vid},
                        {"pid", dev.pid},
                        {"serial", dev.serial},
                        {"manufacturer", dev.manufacturer},
                        {"product", dev.product},
                        {"port", dev.port},
                        {"interfaces", std::move(itfs)}};
  if (d.exception) {
    out["exception"] = {{"ticket", d.exception->ticket},
                        {"until", format_rfc3339_ms(d.exception->until)},
                        {"read_only", d.exception->read_only},
                        {"source", d.exception->source}};
  }
  if (!d.exception_misses.empty()) out["exception_misses"] = d.exception_misses;
  return out;
}

}  // namespace seatlock
