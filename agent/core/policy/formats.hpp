#pragma once
// Syntax checks for policy values that are plain strings or numbers. Each returns an empty
// string when the value is fine, else the "expected ..., got ..." message for the diagnostic.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/policy/policy.hpp"

namespace seatlock::policy_format {

// How a JSON value is shown after "got": strings quoted, scalars as JSON, containers by kind.
std::string describe(const nlohmann::json& v);

std::string check_mode(const std::string& s);
std::string check_hex4(const std::string& s, const char* what);        // VID / PID
std::string check_usb_port(const std::string& s);                      // "1-2", "3-1.4"
std::string check_posix_name(const std::string& s, const char* what);  // user / group
std::string check_seat_id(const std::string& s);
std::string check_https_url(const std::string& s);
std::string check_absolute_path(const std::string& s);
std::string check_ed25519_key(const std::string& s);
std::string check_interface_name(const std::string& s);
std::string check_ticket(const std::string& s);

// A positive duration ("90s", "6h", "1h30m").
std::string check_duration(const std::string& s);
// A port (1-65535) or a range "5060-5061", as a JSON number or string.
std::string check_port(const nlohmann::json& v, PortRange* out = nullptr);
// A byte size: a JSON integer (bytes) or a string with a unit ("256MiB").
std::string check_byte_size(const nlohmann::json& v, std::uint64_t* out = nullptr);

// USB interface class names the policy knows, with their class codes: core/usb's one table
// (core/usb/usb_class_table.hpp), which also gives the README table and the schema enum.
struct UsbClassName {
  const char* name;
  std::uint8_t code;
  bool allowable;  // false: storage-like; only a device exception lets such an interface bind
};
const std::vector<UsbClassName>& usb_class_names();

// Firmware checks a policy may require.
const std::vector<std::string>& firmware_checks();

}  // namespace seatlock::policy_format
