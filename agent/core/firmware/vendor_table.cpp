#include "core/firmware/vendor_table.hpp"

#include <array>

namespace seatlock::firmware {
namespace {

constexpr std::string_view kDell = "dell-wmi-sysman";
constexpr std::string_view kLenovo = "thinklmi";
constexpr std::string_view kHp = "hp-bioscfg";

// Sources: the kernel ABI document sysfs-class-firmware-attributes (authentication names and
// roles), the captures under /work/shared/fixtures/firmware-attributes (Dell, Lenovo, HP names
// and value spellings) and the vendors' BIOS setting references.
constexpr std::array kRules = {
    // admin_password: the BIOS administrator ("bios-admin" role) password entry.
    VendorRule{kDell, "admin_password", RuleKind::Auth, "Admin", "", ""},
    VendorRule{kLenovo, "admin_password", RuleKind::Auth, "Admin", "", ""},
    VendorRule{kHp, "admin_password", RuleKind::Auth, "Setup Password", "", ""},

    // usb_boot_disabled: booting from USB mass storage is off.
    VendorRule{kDell, "usb_boot_disabled", RuleKind::Setting, "UsbEmu", "disabled",
               "enabled"},  // "Enable USB Boot Support"
    VendorRule{kLenovo, "usb_boot_disabled", RuleKind::Setting, "USBBootSupport", "disabled",
               "enabled"},  // ThinkCentre/ThinkStation
    VendorRule{kLenovo, "usb_boot_disabled", RuleKind::Setting, "USBBoot", "disabled",
               "enabled"},  // ThinkPad
    VendorRule{kHp, "usb_boot_disabled", RuleKind::Setting, "USB Storage Boot", "disabled",
               "enabled"},

    // boot_order_locked: the boot order cannot be changed without the admin password.
    VendorRule{kLenovo, "boot_order_locked", RuleKind::Setting, "BootOrderLock", "enabled",
               "disabled"},

    // usb_storage_disabled: external USB ports / USB storage switched off in firmware.
    VendorRule{kDell, "usb_storage_disabled", RuleKind::Setting, "UsbPortsExternal", "disabled",
               "enabled"},
    VendorRule{kLenovo, "usb_storage_disabled", RuleKind::Setting, "USBPortAccess", "disabled",
               "enabled"},
    VendorRule{kHp, "usb_storage_disabled", RuleKind::Setting, "Restrict USB Devices",
               "allow only keyboard and mouse|allow all but storage devices and hubs|allow all but "
               "storage devices",
               "allow all usb devices"},

    // secure_boot: the firmware setting; the EFI variables, when present, take precedence.
    VendorRule{kDell, "secure_boot", RuleKind::Setting, "SecureBoot", "enabled", "disabled"},
    VendorRule{kLenovo, "secure_boot", RuleKind::Setting, "SecureBoot", "enabled", "disabled"},
    VendorRule{kHp, "secure_boot", RuleKind::Setting, "Secure Boot", "enabled", "disabled"},
};

}  // namespace

std::span<const VendorRule> vendor_rules() {
  return kRules;
}

bool is_known_driver(std::string_view driver) {
  for (const auto& r : kRules)
    if (r.driver == driver) return true;
  return false;
}

}  // namespace seatlock::firmware
