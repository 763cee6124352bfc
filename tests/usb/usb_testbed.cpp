#include "usb/usb_testbed.hpp"

#include <umockdev.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace seatlock::test {
namespace {

std::string hex(std::uint8_t v) {
  char b[3];
  std::snprintf(b, sizeof b, "%02x", v);
  return b;
}

std::string parent_port(const std::string& port) {
  auto dot = port.rfind('.');
  if (dot != std::string::npos) return port.substr(0, dot);
  return "usb" + port.substr(0, port.find('-'));
}

// Runs before Catch's main: umockdev only works when preloaded from the start.
__attribute__((constructor)) void reexec_with_preload() {
  const char* pre = std::getenv("LD_PRELOAD");
  if (pre && std::strstr(pre, "libumockdev-preload")) return;
  std::ifstream f("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  std::vector<std::string> args;
  std::string cur;
  for (char c : all) {
    if (c == '\0') {
      args.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string p =
      std::string("libumockdev-preload.so.0") + (pre && *pre ? std::string(":") + pre : "");
  setenv("LD_PRELOAD", p.c_str(), 1);
  execv("/proc/self/exe", argv.data());
  std::perror("re-exec under umockdev preload");
}

}  // namespace

void ensure_umockdev_preload(int, char**) {
  reexec_with_preload();
}

UsbTestbed::UsbTestbed() : tb_(umockdev_testbed_new()) {
  // The directories udev enumerations expect, even before the first device of each kind.
  const std::string sys = sys_root();
  for (const char* d : {"/bus/usb/devices", "/class/block", "/bus/usb/drivers"})
    std::system(("mkdir -p '" + sys + d + "'").c_str());
  umockdev_testbed_add_device(tb_, "usb", "usb1", nullptr, "idVendor", "1d6b", "idProduct", "0002",
                              "bDeviceClass", "09", "manufacturer", "Linux 6.1.0-13-amd64 xhci-hcd",
                              "product", "xHCI Host Controller", "serial", "0000:00:14.0",
                              "interface_authorized_default", "1", nullptr, "DEVTYPE", "usb_device",
                              nullptr);
  umockdev_testbed_add_device(tb_, "usb", "usb1:1.0", "/sys/devices/usb1", "bInterfaceNumber", "00",
                              "bInterfaceClass", "09", "bInterfaceSubClass", "00",
                              "bInterfaceProtocol", "00", "authorized", "1", nullptr, "DEVTYPE",
                              "usb_interface", nullptr);
  set_attr("bus/usb/drivers_probe", "");
}

UsbTestbed::~UsbTestbed() {
  g_object_unref(tb_);
}

std::string UsbTestbed::sys_root() const {
  gchar* d = umockdev_testbed_get_sys_dir(tb_);
  std::string s = d;
  g_free(d);
  return s;
}

std::string UsbTestbed::syspath_of(const std::string& name) const {
  char buf[4096];
  std::string link = sys_root() + "/bus/usb/devices/" + name;
  if (!realpath(link.c_str(), buf)) throw std::runtime_error("no such usb device " + name);
  std::string real = buf;
  return "/sys" + real.substr(sys_root().size());
}

std::string UsbTestbed::plug(const std::string& port, const FakeDevice& dev) {
  const std::string syspath = plug_unconfigured(port, dev);
  for (std::size_t i = 0; i < dev.interfaces.size(); ++i) add_interface(port, i, dev.interfaces[i]);
  return syspath;
}

std::string UsbTestbed::plug_unconfigured(const std::string& port, const FakeDevice& dev) {
  const std::string parent = syspath_of(parent_port(port));
  gchar* p = umockdev_testbed_add_device(
      tb_, "usb", port.c_str(), parent.c_str(), "idVendor", dev.vid.c_str(), "idProduct",
      dev.pid.c_str(), "serial", dev.serial.c_str(), "manufacturer", dev.manufacturer.c_str(),
      "product", dev.product.c_str(), "bDeviceClass", hex(dev.device_class).c_str(), "authorized",
      "1", nullptr, "DEVTYPE", "usb_device", "PRODUCT", (dev.vid + "/" + dev.pid + "/100").c_str(),
      nullptr);
  std::string syspath = p;
  g_free(p);
  return syspath;
}

void UsbTestbed::add_interface(const std::string& port, std::size_t index, const FakeInterface& f) {
  const std::string dflt = attr("bus/usb/devices/usb1/interface_authorized_default");
  const std::string name = port + ":1." + std::to_string(index);
  gchar* ip = umockdev_testbed_add_device(
      tb_, "usb", name.c_str(), syspath_of(port).c_str(), "bInterfaceNumber",
      hex(static_cast<std::uint8_t>(index)).c_str(), "bInterfaceClass", hex(f.cls).c_str(),
      "bInterfaceSubClass", hex(f.subclass).c_str(), "bInterfaceProtocol", hex(f.protocol).c_str(),
      "interface", f.label.c_str(), "authorized", dflt == "0" ? "0" : "1", nullptr, "DEVTYPE",
      "usb_interface", nullptr);
  g_free(ip);
}

void UsbTestbed::remove_interface(const std::string& interface_name) {
  const std::string sp = syspath_of(interface_name);
  umockdev_testbed_uevent(tb_, sp.c_str(), "remove");
  umockdev_testbed_remove_device(tb_, sp.c_str());
}

void UsbTestbed::unplug(const std::string& port) {
  const std::string sp = syspath_of(port);
  umockdev_testbed_uevent(tb_, sp.c_str(), "remove");
  // Interfaces first: umockdev only removes the bus links of the device it is given.
  for (int i = 0;; ++i) {
    const std::string itf = port + ":1." + std::to_string(i);
    if (access((sys_root() + "/bus/usb/devices/" + itf).c_str(), F_OK) != 0) break;
    umockdev_testbed_remove_device(tb_, syspath_of(itf).c_str());
  }
  umockdev_testbed_remove_device(tb_, sp.c_str());
}

std::string UsbTestbed::add_disk(const std::string& interface_name, const std::string& block,
                                 bool removable) {
  std::string parent;
  if (interface_name.empty()) {
    gchar* pci = umockdev_testbed_add_device(tb_, "pci", "0000:00:17.0", nullptr, "class",
                                             "0x010601", nullptr, nullptr);
    parent = pci;
    g_free(pci);
  } else {
    parent = syspath_of(interface_name);
  }
  auto add = [&](const char* subsystem, const std::string& name, const char* devtype, bool del) {
    gchar* s = del ? umockdev_testbed_add_device(tb_, subsystem, name.c_str(), parent.c_str(),
                                                 "delete", "", nullptr, "DEVTYPE", devtype, nullptr)
                   : umockdev_testbed_add_device(tb_, subsystem, name.c_str(), parent.c_str(),
                                                 nullptr, "DEVTYPE", devtype, nullptr);
    parent = s;
    g_free(s);
  };
  add("scsi", "host6", "scsi_host", false);
  add("scsi", "target6:0:0", "scsi_target", false);
  add("scsi", "6:0:0:0", "scsi_device", true);
  gchar* b = umockdev_testbed_add_device(tb_, "block", block.c_str(), parent.c_str(), "removable",
                                         removable ? "1" : "0", "ro", "0", "size", "60437492",
                                         nullptr, "DEVTYPE", "disk", nullptr);
  g_free(b);
  return block;
}

std::string UsbTestbed::add_mmc_card(const std::string& block) {
  gchar* pci = umockdev_testbed_add_device(tb_, "pci", "0000:00:1e.6", nullptr, "class", "0x080501",
                                           nullptr, nullptr);
  gchar* host = umockdev_testbed_add_device(tb_, "mmc_host", "mmc0", pci, nullptr, nullptr);
  gchar* card = umockdev_testbed_add_device(tb_, "mmc", "mmc0:0001", host, "type", "SD", "name",
                                            "SD32G", nullptr, nullptr);
  // The card's driver, so an unbind can be asserted.
  const std::string card_dir = sys_root() + std::string(card).substr(4);
  std::system(("mkdir -p '" + sys_root() + "/bus/mmc/drivers/mmcblk' && : > '" + sys_root() +
               "/bus/mmc/drivers/mmcblk/unbind' && ln -s '" + sys_root() +
               "/bus/mmc/drivers/mmcblk' '" + card_dir + "/driver'")
                  .c_str());
  gchar* b = umockdev_testbed_add_device(tb_, "block", block.c_str(), card, "removable", "0", "ro",
                                         "0", nullptr, "DEVTYPE", "disk", nullptr);
  g_free(pci);
  g_free(host);
  g_free(card);
  g_free(b);
  return block;
}

void UsbTestbed::uevent(const std::string& syspath, const std::string& action) {
  umockdev_testbed_uevent(tb_, syspath.c_str(), action.c_str());
}

std::string UsbTestbed::attr(const std::string& relative) const {
  std::ifstream f(sys_root() + "/" + relative);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

void UsbTestbed::set_attr(const std::string& relative, const std::string& value) {
  std::ofstream f(sys_root() + "/" + relative, std::ios::trunc);
  f << value;
}

}  // namespace seatlock::test
