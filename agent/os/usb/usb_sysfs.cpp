#include "os/usb/usb_sysfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace seatlock {

std::optional<std::string> read_sysfs_attr(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n < 0) return std::nullopt;
  std::string s(buf, static_cast<size_t>(n));
  while (!s.empty() && (s.back() == '\n' || s.back() == '\0')) s.pop_back();
  return s;
}

void write_sysfs_attr(const std::string& path, const std::string& value) {
  // O_TRUNC as a shell redirection does: harmless on sysfs, and keeps fake trees readable.
  int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error(path + ": " + std::strerror(errno));
  ssize_t n = ::write(fd, value.data(), value.size());
  int err = errno;
  ::close(fd);
  if (n != static_cast<ssize_t>(value.size()))
    throw std::runtime_error(path + ": write \"" + value +
                             "\": " + (n < 0 ? std::strerror(err) : "short write"));
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::string usb_device_of_interface(const std::string& interface_name) {
  auto colon = interface_name.find(':');
  return colon == std::string::npos ? "" : interface_name.substr(0, colon);
}

UsbSysfs::UsbSysfs(std::string sys_root) : root_(std::move(sys_root)) {
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
}

std::vector<std::string> list_sysfs_dir(const std::string& dir) {
  std::vector<std::string> out;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = ::readdir(d)) {
    if (e->d_name[0] == '.') continue;
    out.emplace_back(e->d_name);
  }
  ::closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

std::uint8_t hex_attr(const std::string& dir, const char* name) {
  std::uint8_t v = 0;
  if (auto s = read_sysfs_attr(dir + "/" + name)) parse_hex_byte(*s, v);
  return v;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<std::string> UsbSysfs::device_names() const {
  std::vector<std::string> out;
  for (auto& n : list_sysfs_dir(root_ + "/bus/usb/devices"))
    if (n.find(':') == std::string::npos) out.push_back(n);
  return out;
}

std::vector<std::string> UsbSysfs::root_hubs() const {
  std::vector<std::string> out;
  for (auto& n : device_names())
    if (n.rfind("usb", 0) == 0) out.push_back(n);
  return out;
}

std::optional<UsbDevice> UsbSysfs::read_device(const std::string& name) const {
  const std::string dir = device_dir(name);
  auto vid = read_sysfs_attr(dir + "/idVendor");
  if (!vid) return std::nullopt;
  UsbDevice dev;
  dev.port = name;
  dev.vid = lower(*vid);
  dev.pid = lower(read_sysfs_attr(dir + "/idProduct").value_or(""));
  dev.serial = read_sysfs_attr(dir + "/serial").value_or("");
  dev.manufacturer = read_sysfs_attr(dir + "/manufacturer").value_or("");
  dev.product = read_sysfs_attr(dir + "/product").value_or("");
  dev.device_class = hex_attr(dir, "bDeviceClass");
  const std::string prefix = name + ":";
  for (const auto& entry : list_sysfs_dir(dir)) {
    if (entry.rfind(prefix, 0) != 0) continue;
    const std::string idir = dir + "/" + entry;
    if (!path_exists(idir + "/bInterfaceClass")) continue;
    UsbInterface itf;
    itf.name = entry;
    itf.number = hex_attr(idir, "bInterfaceNumber");
    if (!path_exists(idir + "/bInterfaceNumber")) {  // fall back to the name's ".N"
      auto dot = entry.rfind('.');
      if (dot != std::string::npos) itf.number = std::atoi(entry.c_str() + dot + 1);
    }
    itf.cls = hex_attr(idir, "bInterfaceClass");
    itf.subclass = hex_attr(idir, "bInterfaceSubClass");
    itf.protocol = hex_attr(idir, "bInterfaceProtocol");
    itf.label = read_sysfs_attr(idir + "/interface").value_or("");
    itf.authorized = read_sysfs_attr(idir + "/authorized").value_or("1") == "1";
    itf.bound = path_exists(idir + "/driver");
    dev.interfaces.push_back(std::move(itf));
  }
  std::sort(dev.interfaces.begin(), dev.interfaces.end(),
            [](const UsbInterface& a, const UsbInterface& b) { return a.number < b.number; });
  return dev;
}

void UsbSysfs::set_interface_authorized(const std::string& interface_name, bool authorized) const {
  write_sysfs_attr(device_dir(interface_name) + "/authorized", authorized ? "1" : "0");
}

void UsbSysfs::probe(const std::string& interface_name) const {
  write_sysfs_attr(root_ + "/bus/usb/drivers_probe", interface_name);
}

void UsbSysfs::set_interface_authorized_default(const std::string& root_hub,
                                                bool authorized) const {
  write_sysfs_attr(device_dir(root_hub) + "/interface_authorized_default", authorized ? "1" : "0");
}

bool UsbSysfs::interfaces_locked_by_default(const std::string& root_hub) const {
  return read_sysfs_attr(device_dir(root_hub) + "/interface_authorized_default").value_or("") ==
         "0";
}

bool UsbSysfs::device_held_back(const std::string& name) const {
  return read_sysfs_attr(device_dir(name) + "/authorized").value_or("1") == "0";
}

void UsbSysfs::set_device_authorized(const std::string& name, bool authorized) const {
  write_sysfs_attr(device_dir(name) + "/authorized", authorized ? "1" : "0");
}

std::string UsbSysfs::local_path(const std::string& syspath) const {
  if (syspath.rfind("/sys/", 0) == 0) return root_ + syspath.substr(4);
  return syspath;
}

}  // namespace seatlock
