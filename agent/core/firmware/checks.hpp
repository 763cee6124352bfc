#pragma once
// Reads seatlock's firmware checks off a Snapshot: pass / fail / unknown, each with the evidence
// it rests on. Only what the machine itself shows; baselines and attestations are attestation.hpp.
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/firmware/snapshot.hpp"

namespace seatlock::firmware {

inline constexpr std::array<std::string_view, 5> kCheckNames = {
    "admin_password", "usb_boot_disabled", "boot_order_locked", "usb_storage_disabled",
    "secure_boot"};
bool is_known_check(std::string_view name);

enum class Verdict { Pass, Fail, Unknown };
const char* to_string(Verdict v);

struct CheckResult {
  std::string name;
  Verdict result = Verdict::Unknown;
  std::string evidence;  // what was read, e.g. "dell-wmi-sysman/UsbEmu = Disabled"
  std::string source;    // "firmware", "efivars", "attested", or "none"
};

// One result per name in kCheckNames, in that order.
std::vector<CheckResult> read_checks(const Snapshot& s);

}  // namespace seatlock::firmware
