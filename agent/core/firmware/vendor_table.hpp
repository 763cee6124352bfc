#pragma once
// The one place that knows which vendor setting answers which seatlock check.
#include <span>
#include <string_view>

namespace seatlock::firmware {

enum class RuleKind {
  Setting,  // attributes/<name>/current_value, judged by the pass/fail value lists
  Auth,     // authentication/<name>/is_enabled: 1 = a password is set = pass
};

struct VendorRule {
  std::string_view driver;  // directory name under class/firmware-attributes/
  std::string_view check;   // admin_password, usb_boot_disabled, boot_order_locked, ...
  RuleKind kind;
  std::string_view name;  // exactly as the driver spells it (HP names contain spaces)
  // Normalised values (values.hpp normalise_value), '|' separated. A value in neither list
  // makes the check "unknown": we never guess what a vendor's word means.
  std::string_view pass;
  std::string_view fail;
};

std::span<const VendorRule> vendor_rules();

// True when the driver has at least one row in the table.
bool is_known_driver(std::string_view driver);

}  // namespace seatlock::firmware
