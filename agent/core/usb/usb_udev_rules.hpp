#pragma once
// udev rules generated from the USB policy: the first fail-closed layer, active before (and
// without) seatlockd. They make every root hub start new interfaces deauthorized and authorize
// interfaces of allowed, non-storage-like classes directly. Exceptions are left to seatlockd
// (udev cannot expire them); read-only exceptions add a rule that sets the block device
// read-only while udev still holds the event, i.e. before udisks can see it.
#include <string>

#include "core/policy/policy.hpp"

namespace seatlock {

inline constexpr const char* kUsbUdevRulesFile = "70-seatlock-usb.rules";

// Deterministic text (the shipped udev/70-seatlock-usb.rules is this for the default policy).
std::string generate_usb_udev_rules(const UsbPolicy& policy);

}  // namespace seatlock
