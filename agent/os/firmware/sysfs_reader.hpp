#pragma once
// Reads a firmware Snapshot from a sysfs tree. `sysfs_root` stands for /sys (tests pass a fake
// tree): <root>/class/firmware-attributes/*/{attributes,authentication}/*,
// <root>/firmware/efi/efivars/{SecureBoot,SetupMode}-8be4df61-..., <root>/class/dmi/id/*.
#include <string>

#include "core/firmware/snapshot.hpp"

namespace seatlock::firmware {

inline constexpr const char* kEfiGlobalGuid = "8be4df61-93ca-11d2-aa0d-00e098032b8c";

Snapshot read_snapshot(const std::string& sysfs_root);

}  // namespace seatlock::firmware
