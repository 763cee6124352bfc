#pragma once
// Removable block devices (sd*, sr*, mmcblk*): where they hang in sysfs, how to detach them and
// how to make them read-only. Layer 3 of the USB lockdown: storage that arrived by a path the
// interface decision did not see (internal card readers, quirk devices).
#include <optional>
#include <string>
#include <vector>

namespace seatlock {

struct BlockDevice {
  std::string name;  // "sdb", "sdb1", "mmcblk0"
  bool partition = false;
  bool removable = false;     // sysfs `removable` (of the disk, for partitions)
  std::string usb_interface;  // "1-2:1.0" when it sits under a USB interface
  std::string scsi_device;    // local sysfs dir of the SCSI device ("…/0:0:0:0"), "" if none
  std::string mmc_card;       // local sysfs dir of the MMC card ("…/mmc0:0001"), "" if none
  bool read_only = false;     // sysfs `ro`

  std::string usb_device() const;  // "1-2" or ""
  // sd/sr/mmcblk that is removable or sits on a USB or MMC path.
  bool is_storage_candidate() const;
};

// The names under class/block of `sys_root` ("sda", "sdb1", "loop0"...), in name order.
std::vector<std::string> block_device_names(const std::string& sys_root);

// Reads class/block/<name> under `sys_root`; nullopt when absent or not sd*/sr*/mmcblk*.
std::optional<BlockDevice> read_block_device(const std::string& sys_root, const std::string& name);

// Detaches the medium: deauthorizes its USB interface, else deletes the SCSI device, else
// unbinds the MMC card's driver. Returns what was done ("deauthorized 1-2:1.0"); throws
// std::runtime_error when nothing could be done.
std::string detach_block_device(const std::string& sys_root, const BlockDevice& dev);

// BLKROSET on <dev_root>/<name>. Throws std::runtime_error "<path>: <strerror>".
void set_block_read_only(const std::string& dev_root, const std::string& name);

}  // namespace seatlock
