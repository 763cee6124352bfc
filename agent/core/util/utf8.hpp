#pragma once
// Text that came from outside (sysfs, DMI, a user name) as valid UTF-8: canonical event bytes and
// signed firmware baselines are UTF-8 only, and a raw SMBIOS string need not be.
#include <string>
#include <string_view>

namespace seatlock {

// `s` with every byte sequence that is not valid UTF-8 replaced by U+FFFD; valid text unchanged.
std::string valid_utf8(std::string_view s);

}  // namespace seatlock
