// USB: what a plugged device puts in sysfs, read the way seatlockd reads it (agent/os/usb:
// UsbSysfs::read_device, read_block_device, the uevent names) and decided (agent/core/usb:
// parse_hex_byte, classify_interface, decide_usb, usb_event_details). A device controls its
// descriptor strings and class codes, so every attribute is fuzz input. The fake tree lives on
// tmpfs and only its file contents change per input.
// Invariants: hex bytes round-trip through hex2; every interface read gets exactly one
// decision; an interface is allowed only by a rule that says so; storage-like interfaces are
// never allowed by class alone.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/usb/usb_classes.hpp"
#include "core/usb/usb_decision.hpp"
#include "fuzz_support.hpp"
#include "os/usb/block_devices.hpp"
#include "os/usb/usb_sysfs.hpp"

namespace fs = std::filesystem;

namespace {

constexpr const char* kDeviceAttrs[] = {"idVendor",     "idProduct", "serial",
                                        "manufacturer", "product",   "bDeviceClass"};
constexpr const char* kInterfaceAttrs[] = {"bInterfaceNumber",   "bInterfaceClass",
                                           "bInterfaceSubClass", "bInterfaceProtocol",
                                           "interface",          "authorized"};
constexpr int kInterfaces = 3;

struct Tree {
  std::string root, dev_dir, disk_dir;
  Tree() {
    root = "/dev/shm/seatlock-fuzz-usb-" + std::to_string(getpid());
    dev_dir = root + "/devices/pci0000:00/0000:00:14.0/usb1/1-2";
    fs::create_directories(root + "/bus/usb/devices");
    fs::create_directories(root + "/class/block");
    for (int i = 0; i < kInterfaces; ++i) {
      const std::string itf = dev_dir + "/1-2:1." + std::to_string(i);
      fs::create_directories(itf);
      fs::create_directory_symlink(itf, root + "/bus/usb/devices/1-2:1." + std::to_string(i));
    }
    fs::create_directory_symlink(dev_dir, root + "/bus/usb/devices/1-2");
    disk_dir = dev_dir + "/1-2:1.0/host0/target0:0:0/0:0:0:0/block/sdb";
    fs::create_directories(disk_dir + "/sdb1");
    std::ofstream(disk_dir + "/sdb1/partition") << "1\n";
    std::ofstream(dev_dir + "/1-2:1.0/host0/target0:0:0/0:0:0:0/delete");
    fs::create_directory_symlink(disk_dir, root + "/class/block/sdb");
    fs::create_directory_symlink(disk_dir + "/sdb1", root + "/class/block/sdb1");
  }
  ~Tree() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

void put(const std::string& path, const std::string& value) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << value;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Tree tree;
  seatlock::fuzz::Pieces in(data, size);
  for (const char* a : kDeviceAttrs) put(tree.dev_dir + "/" + a, in.next());
  for (int i = 0; i < kInterfaces; ++i)
    for (const char* a : kInterfaceAttrs)
      put(tree.dev_dir + "/1-2:1." + std::to_string(i) + "/" + a, in.next());
  put(tree.disk_dir + "/removable", in.next());
  put(tree.disk_dir + "/ro", in.next());
  const std::string uevent_sysname = in.next();
  const std::string uevent_syspath = in.next();

  std::uint8_t byte = 0;
  const std::string hex_text = uevent_sysname.substr(0, 6);
  if (seatlock::parse_hex_byte(hex_text, byte)) {
    std::uint8_t again = 0;
    FUZZ_CHECK(seatlock::parse_hex_byte(seatlock::hex2(byte), again) && again == byte,
               "hex2/parse_hex_byte do not round-trip for " + hex_text);
  }

  seatlock::UsbSysfs sysfs(tree.root);
  (void)seatlock::usb_device_of_interface(uevent_sysname);
  (void)sysfs.local_path(uevent_syspath);
  (void)sysfs.device_names();

  auto dev = sysfs.read_device("1-2");
  FUZZ_CHECK(dev.has_value(), "device disappeared");
  FUZZ_CHECK(dev->interfaces.size() == kInterfaces, "an interface was not read");

  seatlock::UsbPolicy policy;
  policy.allow_classes = {"hub", "hid", "audio", "vendor", "wireless", "cdc", "misc"};
  seatlock::UsbException ex;
  ex.vid = "0951";
  ex.pid = "1666";
  if (dev->serial.size() % 2) ex.serial = dev->serial;  // sometimes the serial must match too
  ex.until = 1'900'000'000'000;
  policy.exceptions.push_back(ex);
  auto decision = seatlock::decide_usb(*dev, policy, 1'800'000'000'000);
  FUZZ_CHECK(decision.interfaces.size() == dev->interfaces.size(), "decision count differs");
  for (std::size_t i = 0; i < dev->interfaces.size(); ++i) {
    const auto& d = decision.interfaces[i];
    const auto k = seatlock::classify_interface(*dev, dev->interfaces[i]);
    if (d.allow && !decision.exception)
      FUZZ_CHECK(k.storage == seatlock::StorageKind::None,
                 "storage-like interface allowed by class: " + d.reason);
    FUZZ_CHECK(!d.rule.empty() && !d.reason.empty(), "decision without rule or reason");
  }
  const auto details = seatlock::usb_event_details(*dev, decision, true);
  (void)details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  for (const char* name : {"sdb", "sdb1"}) {
    auto b = seatlock::read_block_device(tree.root, name);
    FUZZ_CHECK(b.has_value(), std::string("block device not read: ") + name);
    FUZZ_CHECK(b->usb_interface == "1-2:1.0" && b->usb_device() == "1-2",
               "block device not traced to its USB interface: " + b->usb_interface);
    FUZZ_CHECK(b->is_storage_candidate(), "USB disk is not a storage candidate");
  }
  return 0;
}
