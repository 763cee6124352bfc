#pragma once
// Kernel uevents for USB and block devices, read straight from the NETLINK_KOBJECT_UEVENT
// socket (kernel multicast group), so the daemon works without udevd (early boot, containers)
// and under umockdev. No libudev: one recvmsg and an in-place parse per event on the plug path.
#include <cstddef>
#include <optional>
#include <string>

namespace seatlock {

struct Uevent {
  std::string action;     // add, remove, change, bind, unbind
  std::string subsystem;  // usb, block
  std::string devtype;    // usb_device, usb_interface, disk, partition
  std::string syspath;    // "/sys/devices/..."
  std::string sysname;    // "1-2", "1-2:1.0", "sdb"
  // What the kernel says about a USB device or interface in the event itself, so the plug
  // path need not read it from sysfs (see usb_uevent_ids.hpp); empty when not sent.
  std::string product;    // PRODUCT=  idVendor/idProduct/bcdDevice in hex ("46d/c31c/110")
  std::string type;       // TYPE=     bDeviceClass/SubClass/Protocol in decimal ("0/0/0")
  std::string interface;  // INTERFACE= bInterfaceClass/SubClass/Protocol in decimal ("3/1/1")
};

// One uevent datagram: the kernel's "action@devpath\0KEY=VALUE\0..." or libudev's
// "libudev\0"-headed form (what umockdev sends). nullopt when it is neither or lacks ACTION,
// DEVPATH or SUBSYSTEM. Does not filter by subsystem.
std::optional<Uevent> parse_uevent(const char* data, std::size_t len);

class UeventMonitor {
 public:
  UeventMonitor();  // throws std::runtime_error when the netlink socket cannot be set up
  ~UeventMonitor();
  UeventMonitor(const UeventMonitor&) = delete;
  UeventMonitor& operator=(const UeventMonitor&) = delete;

  int fd() const { return fd_; }
  // The next queued usb or block event; nullopt when none is queued (non-blocking). Datagrams
  // not sent by the kernel (sender port id or uid not 0) and other subsystems are skipped.
  std::optional<Uevent> receive();
  // True once after the socket overflowed (ENOBUFS): uevents were lost and the caller must
  // re-read the devices instead of trusting what it learned from events.
  bool take_overflow();

 private:
  int fd_ = -1;
  bool overflow_ = false;
};

}  // namespace seatlock
