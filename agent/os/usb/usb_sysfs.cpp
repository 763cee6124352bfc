#include "os/usb/usb_sysfs.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
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

constexpr std::uint8_t kVendorClass = 0xff;  // MTP is told by its interface string

// An fd closed on scope exit.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
};

// Attribute `name` of the directory open as `dir`, trimmed like read_sysfs_attr. Relative to
// the directory fd, so the kernel walks one component instead of the whole sysfs path.
std::optional<std::string> read_attr_at(int dir, const char* name) {
  Fd f(::openat(dir, name, O_RDONLY | O_CLOEXEC));
  if (f.fd < 0) return std::nullopt;
  char buf[4096];
  ssize_t n = ::read(f.fd, buf, sizeof buf);
  if (n < 0) return std::nullopt;
  while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\0')) --n;
  return std::string(buf, static_cast<size_t>(n));
}

std::uint8_t hex_attr_at(int dir, const char* name) {
  std::uint8_t v = 0;
  if (auto s = read_attr_at(dir, name)) parse_hex_byte(*s, v);
  return v;
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Names in the directory open as `dir` that start with `prefix`, in name order (getdents64 on
// the fd itself: no second open, no DIR allocation).
std::vector<std::string> entries_with_prefix(int dir, const std::string& prefix) {
  std::vector<std::string> out;
  alignas(dirent64) char buf[4096];
  for (;;) {
    const ssize_t n = ::getdents64(dir, buf, sizeof buf);
    if (n <= 0) break;
    for (ssize_t at = 0; at < n;) {
      const auto* e = reinterpret_cast<const dirent64*>(buf + at);
      at += e->d_reclen;
      if (std::strncmp(e->d_name, prefix.c_str(), prefix.size()) == 0) out.emplace_back(e->d_name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// What to read of an interface besides its `authorized`.
struct InterfaceRead {
  const std::array<std::uint8_t, 3>* triple = nullptr;  // known from the uevent: not read
  bool all = true;  // false: the label only for vendor-class interfaces, no number, no `bound`
};

// One interface directory (`entry` under the device directory open as `dev_dir`); nullopt
// when it is gone or not a configured interface (no class: neither in `what`, nor `modalias`,
// nor bInterfaceClass).
std::optional<UsbInterface> read_interface_at(int dev_dir, const std::string& entry,
                                              InterfaceRead what = {}) {
  Fd dir(::openat(dev_dir, entry.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return std::nullopt;
  UsbInterface itf;
  itf.name = entry;
  std::optional<std::array<std::uint8_t, 3>> triple;
  if (what.triple)
    triple = *what.triple;
  else if (!what.all)  // the plug path: one file instead of three where the kernel has it
    if (auto m = read_attr_at(dir.fd, "modalias")) triple = interface_class_of_modalias(*m);
  if (triple) {
    itf.cls = (*triple)[0];
    itf.subclass = (*triple)[1];
    itf.protocol = (*triple)[2];
  } else {
    auto cls = read_attr_at(dir.fd, "bInterfaceClass");
    if (!cls) return std::nullopt;
    parse_hex_byte(*cls, itf.cls);
    itf.subclass = hex_attr_at(dir.fd, "bInterfaceSubClass");
    itf.protocol = hex_attr_at(dir.fd, "bInterfaceProtocol");
  }
  std::optional<std::string> num;
  if (what.all) num = read_attr_at(dir.fd, "bInterfaceNumber");
  if (num) {
    std::uint8_t v = 0;
    parse_hex_byte(*num, v);
    itf.number = v;
  } else if (auto dot = entry.rfind('.'); dot != std::string::npos) {
    // The kernel names interfaces "<device>:<config>.<bInterfaceNumber>" (decimal).
    // from_chars: no overflow UB (atoi); a malformed suffix leaves 0, as for a missing one.
    std::from_chars(entry.data() + dot + 1, entry.data() + entry.size(), itf.number);
  }
  if (what.all || itf.cls == kVendorClass)
    itf.label = read_attr_at(dir.fd, "interface").value_or("");
  itf.authorized = read_attr_at(dir.fd, "authorized").value_or("1") == "1";
  if (what.all) itf.bound = ::faccessat(dir.fd, "driver", F_OK, 0) == 0;
  return itf;
}

void sort_interfaces(UsbDevice& dev) {
  std::sort(dev.interfaces.begin(), dev.interfaces.end(),
            [](const UsbInterface& a, const UsbInterface& b) { return a.number < b.number; });
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
  Fd dir(::open(device_dir(name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return std::nullopt;
  auto vid = read_attr_at(dir.fd, "idVendor");
  if (!vid) return std::nullopt;
  UsbDevice dev;
  dev.port = name;
  dev.vid = lower(*vid);
  dev.pid = lower(read_attr_at(dir.fd, "idProduct").value_or(""));
  dev.serial = read_attr_at(dir.fd, "serial").value_or("");
  dev.manufacturer = read_attr_at(dir.fd, "manufacturer").value_or("");
  dev.product = read_attr_at(dir.fd, "product").value_or("");
  dev.device_class = hex_attr_at(dir.fd, "bDeviceClass");
  dev.authorized = read_attr_at(dir.fd, "authorized").value_or("1") != "0";
  for (const auto& entry : entries_with_prefix(dir.fd, name + ":"))
    if (auto itf = read_interface_at(dir.fd, entry)) dev.interfaces.push_back(std::move(*itf));
  sort_interfaces(dev);
  return dev;
}

std::optional<UsbDevice> UsbSysfs::read_device_for_decision(const std::string& name,
                                                            const UsbUeventIds& ids) const {
  Fd dir(::open(device_dir(name).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return std::nullopt;
  UsbDevice dev;
  dev.port = name;
  if (!ids.vid.empty()) {
    dev.vid = ids.vid;
    dev.pid = ids.pid;
  } else {
    auto vid = read_attr_at(dir.fd, "idVendor");
    if (!vid) return std::nullopt;
    dev.vid = lower(*vid);
    dev.pid = lower(read_attr_at(dir.fd, "idProduct").value_or(""));
  }
  dev.device_class = ids.device_class.value_or(0);  // not needed to decide: not read
  dev.authorized = read_attr_at(dir.fd, "authorized").value_or("1") != "0";
  for (const auto& entry : entries_with_prefix(dir.fd, name + ":"))
    if (auto itf = read_interface_at(dir.fd, entry, InterfaceRead{nullptr, false}))
      dev.interfaces.push_back(std::move(*itf));
  sort_interfaces(dev);
  return dev;
}

void UsbSysfs::read_device_strings(UsbDevice& dev) const {
  Fd dir(::open(device_dir(dev.port).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return;
  dev.serial = read_attr_at(dir.fd, "serial").value_or("");
  dev.manufacturer = read_attr_at(dir.fd, "manufacturer").value_or("");
  dev.product = read_attr_at(dir.fd, "product").value_or("");
  for (auto& itf : dev.interfaces) {
    if (itf.cls == kVendorClass) continue;  // read with the decision
    Fd idir(::openat(dir.fd, itf.name.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (idir.fd >= 0) itf.label = read_attr_at(idir.fd, "interface").value_or("");
  }
}

std::optional<UsbInterface> UsbSysfs::read_interface(const std::string& interface_name,
                                                     const UsbUeventIds* ids) const {
  const std::string device = usb_device_of_interface(interface_name);
  if (device.empty()) return std::nullopt;
  Fd dir(::open(device_dir(device).c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (dir.fd < 0) return std::nullopt;
  InterfaceRead what;
  if (ids && ids->interface_class) what.triple = &*ids->interface_class;
  return read_interface_at(dir.fd, interface_name, what);
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
