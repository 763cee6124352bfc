#include "os/usb/block_devices.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

#include "os/usb/usb_sysfs.hpp"

namespace seatlock {
namespace {

std::string base_name(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}
std::string parent_dir(const std::string& p) {
  auto s = p.rfind('/');
  return s == std::string::npos || s == 0 ? "/" : p.substr(0, s);
}
bool starts_with(const std::string& s, const char* p) {
  return s.rfind(p, 0) == 0;
}

// "0:0:0:0": host:channel:target:lun.
bool is_scsi_address(const std::string& n) {
  int colons = 0;
  for (char c : n) {
    if (c == ':')
      ++colons;
    else if (c < '0' || c > '9')
      return false;
  }
  return colons == 3;
}

}  // namespace

std::vector<std::string> block_device_names(const std::string& sys_root) {
  return list_sysfs_dir(sys_root + "/class/block");
}

std::string BlockDevice::usb_device() const {
  return usb_device_of_interface(usb_interface);
}

bool BlockDevice::is_storage_candidate() const {
  return removable || !usb_interface.empty() || !mmc_card.empty();
}

std::optional<BlockDevice> read_block_device(const std::string& sys_root, const std::string& name) {
  if (!(starts_with(name, "sd") || starts_with(name, "sr") || starts_with(name, "mmcblk")))
    return std::nullopt;
  char resolved[PATH_MAX];
  const std::string link = sys_root + "/class/block/" + name;
  if (!::realpath(link.c_str(), resolved)) return std::nullopt;
  BlockDevice b;
  b.name = name;
  std::string dir = resolved;
  b.partition = path_exists(dir + "/partition");
  const std::string disk_dir = b.partition ? parent_dir(dir) : dir;
  b.removable = read_sysfs_attr(disk_dir + "/removable").value_or("0") == "1";
  b.read_only = read_sysfs_attr(dir + "/ro").value_or("0") == "1";
  // Walk up towards the root: the first USB interface, SCSI device and MMC card on the way.
  const std::string stop = sys_root + "/devices";
  for (std::string d = parent_dir(disk_dir); d.size() > stop.size() && d.rfind(stop, 0) == 0;
       d = parent_dir(d)) {
    const std::string n = base_name(d);
    if (b.scsi_device.empty() && is_scsi_address(n) && path_exists(d + "/delete"))
      b.scsi_device = d;
    if (b.mmc_card.empty() && starts_with(n, "mmc") && n.find(':') != std::string::npos)
      b.mmc_card = d;
    if (b.usb_interface.empty() && n.find(':') != std::string::npos &&
        path_exists(d + "/bInterfaceClass"))
      b.usb_interface = n;
  }
  return b;
}

std::string detach_block_device(const std::string& sys_root, const BlockDevice& dev) {
  std::string failures;
  if (!dev.usb_interface.empty()) {
    try {
      UsbSysfs(sys_root).set_interface_authorized(dev.usb_interface, false);
      return "deauthorized USB interface " + dev.usb_interface;
    } catch (const std::exception& e) {
      failures += std::string(e.what()) + "; ";
    }
  }
  if (!dev.scsi_device.empty()) {
    try {
      write_sysfs_attr(dev.scsi_device + "/delete", "1");
      return "deleted SCSI device " + base_name(dev.scsi_device);
    } catch (const std::exception& e) {
      failures += std::string(e.what()) + "; ";
    }
  }
  if (!dev.mmc_card.empty()) {
    try {
      write_sysfs_attr(dev.mmc_card + "/driver/unbind", base_name(dev.mmc_card));
      return "unbound MMC card " + base_name(dev.mmc_card);
    } catch (const std::exception& e) {
      failures += std::string(e.what()) + "; ";
    }
  }
  throw std::runtime_error(
      "cannot detach " + dev.name + ": " +
      (failures.empty() ? "no USB interface, SCSI device or MMC card above it" : failures));
}

void set_block_read_only(const std::string& dev_root, const std::string& name) {
  const std::string path = dev_root + "/" + name;
  int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  int one = 1;
  int rc = ::ioctl(fd, BLKROSET, &one);
  int err = errno;
  ::close(fd);
  if (rc != 0) throw std::runtime_error(path + ": BLKROSET: " + std::strerror(err));
}

}  // namespace seatlock
