#pragma once
// One attestation of this machine: read the sysfs tree and the baseline file, then judge (core).
// Shared by seatlockd's firmware service and `seatlockctl firmware status --local`.
#include <string>
#include <vector>

#include "core/firmware/attestation.hpp"

namespace seatlock::firmware {

// Reads and verifies the baseline at `path` ("" = none configured -> "missing").
BaselineCheck read_baseline(const std::string& path, const std::vector<std::string>& trusted_keys);

Attestation attest_local(const std::string& sysfs_root, const FirmwarePolicy& policy);

}  // namespace seatlock::firmware
