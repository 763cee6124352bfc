#pragma once
// Attestation: the checks the machine shows, completed by the technician's attestations from a
// verified baseline, compared with that baseline, and judged against FirmwarePolicy.require.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/firmware/baseline.hpp"
#include "core/firmware/checks.hpp"
#include "core/firmware/snapshot.hpp"
#include "core/policy/policy.hpp"

namespace seatlock::firmware {

struct Drift {
  std::string field;  // "dmi/bios_version", "settings/dell-wmi-sysman/UsbEmu"
  std::string baseline;
  std::string current;  // "(absent)" when it can no longer be read
};

struct Attestation {
  std::vector<CheckResult> checks;
  std::vector<std::string> required;  // check names the policy requires
  BaselineCheck baseline;
  std::vector<Drift> drift;             // against a verified baseline
  std::vector<std::string> violations;  // why overall is "violation", for people
  std::vector<std::string> incomplete;  // required checks nobody could answer
  std::string overall = "unknown";      // compliant | incomplete | violation
  std::string severity = "info";        // info | medium | high
  nlohmann::json dmi;                   // current identity, for the record
};

Attestation attest(const Snapshot& s, const FirmwarePolicy& policy, const BaselineCheck& baseline);

// The firmware.attestation event details (also what `firmware.status` returns).
nlohmann::json to_json(const Attestation& a);

}  // namespace seatlock::firmware
