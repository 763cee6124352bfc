#pragma once
// Where seatlockd's generated USB udev rules go on disk (the text is core/usb/usb_udev_rules).
#include <string>
#include <string_view>

namespace seatlock {

// Creates `dir` when missing and replaces <dir>/70-seatlock-usb.rules with `rules` (0644,
// atomic_write: a reader sees the old or the new file, never half of one). Returns the path;
// throws (std::runtime_error or std::filesystem::filesystem_error) naming the path on failure.
std::string install_usb_udev_rules(const std::string& dir, std::string_view rules);

}  // namespace seatlock
