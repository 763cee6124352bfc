#pragma once
// A umockdev testbed playing the USB side of the kernel: root hubs, devices and interfaces as
// described in usb_catalog, block devices under them, and uevents. Sysfs files are plain files,
// so tests assert what seatlock wrote into them.
#include <string>
#include <vector>

#include "usb/usb_catalog.hpp"

typedef struct _UMockdevTestbed UMockdevTestbed;

namespace seatlock::test {

class UsbTestbed {
 public:
  UsbTestbed();  // one root hub "usb1" with interface_authorized_default=1 (kernel default)
  ~UsbTestbed();
  UsbTestbed(const UsbTestbed&) = delete;
  UsbTestbed& operator=(const UsbTestbed&) = delete;

  std::string sys_root() const;  // the testbed's sys/ directory (absolute)
  // Adds the device at `port` ("1-2", "1-3.1"; its parent must exist) and its interfaces, each
  // with authorized=<interface_authorized_default of usb1>, emitting "add" uevents like the
  // kernel. Returns the device's syspath.
  std::string plug(const std::string& port, const FakeDevice& dev);
  void unplug(const std::string& port);
  // The kernel's own order: the device's "add" goes out before it is configured, its
  // interfaces follow. add_interface adds interface `index` ("<port>:1.<index>") with its "add"
  // uevent; remove_interface removes one with its "remove" uevent (a configuration change).
  std::string plug_unconfigured(const std::string& port, const FakeDevice& dev);
  void add_interface(const std::string& port, std::size_t index, const FakeInterface& itf);
  void remove_interface(const std::string& interface_name);
  // A SCSI disk (host/target/device/block chain) under `interface_name`, or under a PCI
  // card reader when interface_name is "". Returns the block name.
  std::string add_disk(const std::string& interface_name, const std::string& block,
                       bool removable = true);
  std::string add_mmc_card(const std::string& block);  // internal SDHCI reader, mmc0:0001
  void uevent(const std::string& syspath, const std::string& action);

  std::string attr(const std::string& relative) const;  // file under sys/, trimmed
  void set_attr(const std::string& relative, const std::string& value);
  std::string authorized(const std::string& interface_name) const {
    return attr("bus/usb/devices/" + interface_name + "/authorized");
  }
  std::string syspath_of(const std::string& name) const;  // "/sys/devices/..." for a usb name

 private:
  UMockdevTestbed* tb_;
};

// Re-executes the running test binary with libumockdev-preload when it is not preloaded yet.
void ensure_umockdev_preload(int argc, char** argv);

}  // namespace seatlock::test
