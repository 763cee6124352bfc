#pragma once
// What the OS reader collects from one machine, as raw text/bytes: the firmware-attributes
// classes, the EFI variables and the DMI identity. Nothing here is interpreted yet; parsing and
// judgement live in values.hpp and checks.hpp so they can be tested from strings.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace seatlock::firmware {

// <class>/attributes/<name>/{current_value,possible_values,type}
struct RawSetting {
  std::string current_value;
  std::string possible_values;
  std::string type;
};

// <class>/authentication/<name>/{role,is_enabled,mechanism}
struct RawAuth {
  std::string role;
  std::string is_enabled;
  std::string mechanism;
};

// One directory under class/firmware-attributes/, named after its driver.
struct RawInterface {
  std::string driver;  // "dell-wmi-sysman", "thinklmi", "hp-bioscfg", ...
  std::map<std::string, RawSetting> settings;
  std::map<std::string, RawAuth> auth;
};

// DMI fields read from class/dmi/id/.
inline constexpr const char* kDmiFields[] = {"sys_vendor",     "product_name", "bios_vendor",
                                             "bios_version",   "bios_date",    "board_serial",
                                             "product_serial", "product_uuid"};

struct Snapshot {
  std::vector<RawInterface> interfaces;
  std::optional<std::string> secure_boot_var;  // whole efivarfs file: 4 attribute bytes + value
  std::optional<std::string> setup_mode_var;
  std::map<std::string, std::string> dmi;  // trimmed values of the fields present
  std::vector<std::string> read_errors;    // files that exist but could not be read
};

// The DMI identity and BIOS fields a baseline records, from a snapshot.
nlohmann::json identity_json(const Snapshot& s);
// Every readable setting as {"<driver>/<name>": "<current_value trimmed>"}, skipping the
// kernel's own bookkeeping entries (pending_reboot, reset_bios).
nlohmann::json settings_json(const Snapshot& s);

}  // namespace seatlock::firmware
