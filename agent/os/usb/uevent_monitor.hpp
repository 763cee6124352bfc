#pragma once
// Kernel uevents for USB and block devices through libudev's "kernel" netlink source, so the
// daemon works without udevd (early boot, containers) and under umockdev.
#include <optional>
#include <string>

struct udev;
struct udev_monitor;

namespace seatlock {

struct Uevent {
  std::string action;     // add, remove, change, bind, unbind
  std::string subsystem;  // usb, block
  std::string devtype;    // usb_device, usb_interface, disk, partition
  std::string syspath;    // "/sys/devices/..."
  std::string sysname;    // "1-2", "1-2:1.0", "sdb"
};

class UeventMonitor {
 public:
  UeventMonitor();  // throws std::runtime_error when the netlink socket cannot be set up
  ~UeventMonitor();
  UeventMonitor(const UeventMonitor&) = delete;
  UeventMonitor& operator=(const UeventMonitor&) = delete;

  int fd() const;
  // The next queued event; nullopt when none is queued (non-blocking).
  std::optional<Uevent> receive();

 private:
  udev* udev_ = nullptr;
  udev_monitor* monitor_ = nullptr;
};

}  // namespace seatlock
