#include "os/usb/udev_rules_file.hpp"

#include <filesystem>
#include <stdexcept>

#include "core/usb/usb_udev_rules.hpp"
#include "os/base/atomic_file.hpp"

namespace seatlock {

std::string install_usb_udev_rules(const std::string& dir, std::string_view rules) {
  std::string path = dir + "/" + kUsbUdevRulesFile;
  std::filesystem::create_directories(dir);  // filesystem_error names the directory
  // Only when they changed: udevd re-reads every rules file after any change in its rules
  // directories (about 0.25 s of CPU per reload on a TCG seat VM), and seatlockd hands usbd the
  // same policy at every start.
  atomic_write_if_changed(path, rules, 0644);
  return path;
}

}  // namespace seatlock
