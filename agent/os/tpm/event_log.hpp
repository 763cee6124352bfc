#pragma once
// The UEFI measured-boot event log as the kernel exposes it in securityfs.
#include <optional>
#include <string>

namespace seatlock::tpm {

inline constexpr const char* kDefaultEventLog =
    "/sys/kernel/security/tpm0/binary_bios_measurements";

struct EventLogRead {
  std::optional<std::string> bytes;  // the whole binary log, when it could be read
  std::string problem;               // why not ("" when read): absent, permission, I/O error
};

EventLogRead read_event_log(const std::string& path);

}  // namespace seatlock::tpm
