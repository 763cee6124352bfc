#pragma once
// The USB decision: which interfaces of a device may bind, and why. Pure function of the
// device, the policy and the time; the daemon applies it (or only reports it in audit mode).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/policy/policy.hpp"
#include "core/usb/usb_classes.hpp"
#include "core/usb/usb_device.hpp"

namespace seatlock {

struct InterfaceDecision {
  std::string name;  // "1-2:1.0"
  int number = 0;
  bool allow = false;
  std::string rule;    // "usb.classes", "usb.storage", "usb.exceptions"
  std::string reason;  // one line for people: "class hid is allowed"
  InterfaceClass klass;
};

struct DeviceDecision {
  std::vector<InterfaceDecision> interfaces;
  std::optional<UsbException> exception;  // the exception that let the device through
  // Why no exception applied although one names this VID:PID (wrong serial, expired, port).
  std::vector<std::string> exception_misses;

  bool any_blocked() const;
  bool any_allowed() const;
  bool any_storage() const;  // some interface is storage-like
  // The rule of the first blocked interface (or of the exception / classes when none is).
  std::string rule() const;
  const InterfaceDecision* find(const std::string& interface_name) const;
};

// Decides every interface of `dev`. Exceptions are matched on VID, PID and, where the
// exception names them, serial and port; one whose `until` is at or before `now` does not apply.
DeviceDecision decide_usb(const UsbDevice& dev, const UsbPolicy& policy, UnixMillis now);

// Whether decide_usb(dev, policy, ...) may depend on dev's serial: some exception names dev's
// VID:PID (it may name a serial, and a miss quotes the device's). Otherwise only VID, PID, port
// and the interfaces' classes (and vendor-class labels) decide, so the strings can wait.
bool decision_needs_serial(const UsbDevice& dev, const UsbPolicy& policy);

// The first exception matching dev (ignoring time), for expiry handling.
std::optional<UsbException> find_exception(const UsbDevice& dev, const UsbPolicy& policy);

// Event `details` for a device and its decision (DESIGN.md event sketch): vid, pid, serial,
// manufacturer, product, port, interfaces[{n, class, subclass, protocol, name, interface,
// authorized, reason}], plus exception {ticket, until, read_only, source} when one applied.
// `authorized` is what the interface is after enforcement (audit mode: left as allowed).
nlohmann::json usb_event_details(const UsbDevice& dev, const DeviceDecision& d, bool enforced);

}  // namespace seatlock
