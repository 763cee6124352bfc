#pragma once
// Reads and writes the USB part of sysfs under a configurable root ("/sys" in production, a
// umockdev testbed's or a fake tree's sys/ in tests). Every write names the file in its error.
#include <optional>
#include <string>
#include <vector>

#include "core/usb/usb_device.hpp"
#include "os/usb/usb_uevent_ids.hpp"

namespace seatlock {

class UsbSysfs {
 public:
  explicit UsbSysfs(std::string sys_root);  // the directory that holds bus/, class/, devices/

  const std::string& root() const { return root_; }
  // USB devices (not interfaces) under bus/usb/devices, root hubs included, in name order.
  std::vector<std::string> device_names() const;
  std::vector<std::string> root_hubs() const;
  // Device attributes and every interface; nullopt when the device is gone.
  std::optional<UsbDevice> read_device(const std::string& name) const;
  // The plug path's read: only what decide_usb needs before the `authorized` writes. The
  // identity comes from `ids` (the uevent) where given; then `authorized` and, per interface,
  // class triple and `authorized`. Strings stay empty (but the label of vendor-class
  // interfaces: it tells MTP), numbers come from the interface names, `bound` stays false.
  // nullopt when the device is gone.
  std::optional<UsbDevice> read_device_for_decision(const std::string& name,
                                                    const UsbUeventIds& ids) const;
  // Adds what read_device_for_decision left out for the event details: serial, manufacturer,
  // product and the interface labels. Leaves them empty when the device is gone.
  void read_device_strings(UsbDevice& dev) const;
  // One interface ("1-2:1.0") as read_device fills it; nullopt when it is gone or not a
  // configured interface. With the class triple in `ids` (its uevent's INTERFACE=), that
  // triple is used instead of being read.
  std::optional<UsbInterface> read_interface(const std::string& interface_name,
                                             const UsbUeventIds* ids = nullptr) const;

  // Throw std::runtime_error "<path>: <strerror>" on failure.
  void set_interface_authorized(const std::string& interface_name, bool authorized) const;
  void probe(const std::string& interface_name) const;  // bus/usb/drivers_probe
  void set_interface_authorized_default(const std::string& root_hub, bool authorized) const;
  // interface_authorized_default reads "0": new interfaces under this hub arrive unauthorized.
  bool interfaces_locked_by_default(const std::string& root_hub) const;
  // The device-level `authorized` reads "0" (usbcore.authorized_default=0 held it back).
  bool device_held_back(const std::string& name) const;
  void set_device_authorized(const std::string& name, bool authorized) const;

  // Maps a libudev syspath ("/sys/devices/...") onto this root.
  std::string local_path(const std::string& syspath) const;
  std::string device_dir(const std::string& name) const {
    return root_ + "/bus/usb/devices/" + name;
  }

 private:
  std::string root_;
};

// "1-2:1.0" -> "1-2"; "" when `name` is not an interface name.
std::string usb_device_of_interface(const std::string& interface_name);

// Small file helpers shared by the USB adapters.
std::optional<std::string> read_sysfs_attr(const std::string& path);       // trimmed of the newline
void write_sysfs_attr(const std::string& path, const std::string& value);  // throws
bool path_exists(const std::string& path);
// Entry names of `dir` without dot entries, in name order; empty when `dir` cannot be read.
std::vector<std::string> list_sysfs_dir(const std::string& dir);

}  // namespace seatlock
