#pragma once
// The TCG PC Client crypto-agile event log (binary_bios_measurements, TCG PC Client Platform
// Firmware Profile 2.0 section 10): a first event in the SHA-1 TCG_PCR_EVENT format carrying
// the "Spec ID Event03" (which digests follow, and their sizes), then TCG_PCR_EVENT2 entries.
// It comes from the network: every length is checked against what is left, nothing is trusted.
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seatlock::collector::attest {

// Event types used here (PC Client PFP, 10.4.1).
enum EventType : uint32_t {
  kEvPostCode = 0x1,
  kEvNoAction = 0x3,
  kEvSeparator = 0x4,
  kEvSCrtmVersion = 0x8,
  kEvEfiVariableDriverConfig = 0x80000001,
  kEvEfiVariableBoot = 0x80000002,
  kEvEfiBootServicesApplication = 0x80000003,
  kEvEfiPlatformFirmwareBlob = 0x80000008,
  kEvEfiPlatformFirmwareBlob2 = 0x8000000A,
  kEvEfiVariableBoot2 = 0x8000000C,
  kEvEfiVariableAuthority = 0x800000E0,
};

struct LogEvent {
  uint32_t pcr = 0;
  uint32_t type = 0;
  std::string sha256;  // 32 raw bytes ("" when the event has no sha256 digest)
  std::string data;    // the event data as logged
};

struct EventLog {
  uint8_t startup_locality = 0;  // from a "StartupLocality" EV_NO_ACTION event (PCR 0's start)
  std::vector<LogEvent> events;  // the TCG_PCR_EVENT2 entries, in order
};

// Throws AttestError naming the offset and what was wrong. The log must carry a sha256 bank.
EventLog parse_event_log(std::string_view bytes);

// PCRs 0-7 of the sha256 bank after extending every event (EV_NO_ACTION is not extended).
std::array<std::string, 8> replay_sha256(const EventLog& log);

}  // namespace seatlock::collector::attest
