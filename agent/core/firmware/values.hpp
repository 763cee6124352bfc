#pragma once
// Parsers for the text and bytes the firmware exposes. All take strings, none touch files.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seatlock::firmware {

// Strips surrounding white space (sysfs values end in "\n").
std::string trim(std::string_view s);

// The value part of a firmware-attributes current_value, vendor decorations removed:
//   "Enable;[Optional:Disable,Enable]"                       -> "Enable"   (thinklmi before 6.3)
//   "Primary;[Optional:Primary,Automatic][Status:ShowOnly]"  -> "Primary"
//   "Enabled\n"                                              -> "Enabled"
std::string strip_decorations(std::string_view raw);

// Comparable form of a setting value: decorations stripped, lower case, white space runs
// collapsed, and the on/off spellings folded: Enable/Enabled/On/Yes/True -> "enabled",
// Disable/Disabled/Off/No/False -> "disabled". Anything else stays as lowered text
// ("alwaysexceptinternalhdd", "allow only keyboard and mouse").
std::string normalise_value(std::string_view raw);

// The possible values list, split on ';' or ',' (both spellings occur), decorations and empty
// entries removed.
std::vector<std::string> split_possible_values(std::string_view raw);

// authentication/<name>/is_enabled: "1" -> true, "0" -> false, anything else -> nullopt.
std::optional<bool> parse_is_enabled(std::string_view raw);

// An efivarfs file of a one-byte boolean variable (SecureBoot, SetupMode): 4 little-endian
// attribute bytes then the value byte. nullopt when the length is not 5 or the value is not
// 0 or 1 (a truncated or foreign file is "unknown", never a guess).
std::optional<bool> parse_efivar_bool(std::string_view bytes);

}  // namespace seatlock::firmware
