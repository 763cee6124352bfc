#pragma once
// The identity a USB uevent carries itself (the kernel's usb_dev_uevent / usb_if_uevent keys):
// on the plug path these spare the sysfs reads of idVendor, idProduct, bDeviceClass and the
// interface class triple. Both come from the same descriptors the kernel shows in sysfs.
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "os/usb/uevent_monitor.hpp"

namespace seatlock {

struct UsbUeventIds {
  std::string vid;  // 4 lower-case hex digits as sysfs idVendor shows them; "" = not sent
  std::string pid;
  std::optional<std::uint8_t> device_class;                    // TYPE's first field
  std::optional<std::array<std::uint8_t, 3>> interface_class;  // INTERFACE: class/sub/proto
};

// Fields the event lacks or that do not parse stay empty (the caller then reads sysfs).
UsbUeventIds usb_uevent_ids(const Uevent& ev);

// An interface's class triple from its sysfs `modalias`, which ends in the kernel's fixed
// "ic%02Xisc%02Xip%02Xin%02X" (one read instead of three attribute files); nullopt when
// `modalias` does not end so.
std::optional<std::array<std::uint8_t, 3>> interface_class_of_modalias(const std::string& modalias);

}  // namespace seatlock
