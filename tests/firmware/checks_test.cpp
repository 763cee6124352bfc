// Checks read from fake sysfs trees built on the real vendor captures.
#include "core/firmware/checks.hpp"

#include <catch2/catch.hpp>

#include "firmware/fake_sysfs.hpp"
#include "os/firmware/sysfs_reader.hpp"

using namespace seatlock::firmware;
using seatlock::test::FakeSysfs;

namespace {

CheckResult check(const FakeSysfs& f, const std::string& name) {
  for (auto& c : read_checks(read_snapshot(f.str())))
    if (c.name == name) return c;
  FAIL("no check " << name);
  return {};
}

}  // namespace

TEST_CASE("Dell with admin password and USB boot disabled passes what it exposes",
          "[firmware][checks]") {
  FakeSysfs f;
  seatlock::test::make_dell_locked(f);
  auto pw = check(f, "admin_password");
  CHECK(pw.result == Verdict::Pass);
  CHECK(pw.evidence == "authentication/dell-wmi-sysman/Admin is_enabled = 1");
  CHECK(pw.source == "firmware");
  auto usb_boot = check(f, "usb_boot_disabled");
  CHECK(usb_boot.result == Verdict::Pass);
  CHECK(usb_boot.evidence == "dell-wmi-sysman/UsbEmu = Disabled");
  CHECK(check(f, "usb_storage_disabled").result == Verdict::Pass);
  auto sb = check(f, "secure_boot");
  CHECK(sb.result == Verdict::Pass);
  CHECK(sb.source == "efivars");
  CHECK(sb.evidence == "efivars SecureBoot=1 SetupMode=0");
  // Dell has no boot-order lock setting: unknown, never a guess.
  auto order = check(f, "boot_order_locked");
  CHECK(order.result == Verdict::Unknown);
  CHECK(order.evidence == "not exposed by dell-wmi-sysman");
}

TEST_CASE("the same Dell after a CMOS reset fails password, USB boot and USB ports",
          "[firmware][checks]") {
  FakeSysfs f;
  seatlock::test::make_dell_cmos_reset(f);
  auto pw = check(f, "admin_password");
  CHECK(pw.result == Verdict::Fail);
  CHECK(pw.evidence == "authentication/dell-wmi-sysman/Admin is_enabled = 0");
  auto usb_boot = check(f, "usb_boot_disabled");  // the captured (factory) value
  CHECK(usb_boot.result == Verdict::Fail);
  CHECK(usb_boot.evidence == "dell-wmi-sysman/UsbEmu = Enabled");
  CHECK(check(f, "usb_storage_disabled").result == Verdict::Fail);
}

TEST_CASE("without efivars, Secure Boot comes from the vendor setting", "[firmware][checks]") {
  FakeSysfs f;
  f.capture("dell-xps13-9310", "dell-wmi-sysman");
  auto sb = check(f, "secure_boot");
  CHECK(sb.result == Verdict::Pass);
  CHECK(sb.source == "firmware");
  CHECK(sb.evidence == "dell-wmi-sysman/SecureBoot = Enabled");
  // The EFI variables show what is in force and win over the setting.
  f.efi(false, false);
  CHECK(check(f, "secure_boot").result == Verdict::Fail);
}

TEST_CASE("ThinkPad with old-format values and BootOrderLock", "[firmware][checks]") {
  FakeSysfs f;
  f.capture("lenovo-p14s-gen1", "thinklmi")
      .setting("thinklmi", "BootOrderLock", "Enable;[Optional:Disable,Enable]")
      .setting("thinklmi", "USBBoot", "Disable;[Optional:Disable,Enable]")
      .auth("thinklmi", "Admin", "bios-admin", true);
  auto order = check(f, "boot_order_locked");
  CHECK(order.result == Verdict::Pass);
  CHECK(order.evidence == "thinklmi/BootOrderLock = Enable");
  CHECK(check(f, "usb_boot_disabled").result == Verdict::Pass);
  CHECK(check(f, "admin_password").result == Verdict::Pass);
  auto sb = check(f, "secure_boot");  // the capture's own SecureBoot = Enable
  CHECK(sb.result == Verdict::Pass);
  CHECK(sb.evidence == "thinklmi/SecureBoot = Enable");
  CHECK(check(f, "usb_storage_disabled").result == Verdict::Unknown);

  f.setting("thinklmi", "BootOrderLock", "Disable;[Optional:Disable,Enable]");
  CHECK(check(f, "boot_order_locked").result == Verdict::Fail);
}

TEST_CASE("ThinkStation P620 with USBBootSupport and USBPortAccess, both value formats",
          "[firmware][checks]") {
  for (std::string machine : {"lenovo-p620", "lenovo-p620-6.3"}) {
    INFO(machine);
    const bool old_format = machine == "lenovo-p620";
    auto v = [&](const std::string& value) {
      return old_format ? value + ";[Optional:Disable,Enable]" : value;
    };
    FakeSysfs f;
    f.capture(machine, "thinklmi")
        .setting("thinklmi", "USBBootSupport", v("Enable"))
        .setting("thinklmi", "USBPortAccess", v("Disable"));
    auto boot = check(f, "usb_boot_disabled");
    CHECK(boot.result == Verdict::Fail);
    CHECK(boot.evidence == "thinklmi/USBBootSupport = Enable");
    auto ports = check(f, "usb_storage_disabled");
    CHECK(ports.result == Verdict::Pass);
    CHECK(ports.evidence == "thinklmi/USBPortAccess = Disable");
    CHECK(check(f, "admin_password").result == Verdict::Unknown);  // no authentication/ entries
  }
}

TEST_CASE("HP settings with spaces in their names", "[firmware][checks]") {
  FakeSysfs f;
  f.capture("hp-z2-mini-g1a", "hp-bioscfg")
      .setting("hp-bioscfg", "USB Storage Boot", "Disable", "Disable;Enable")
      .setting("hp-bioscfg", "Restrict USB Devices", "Allow only keyboard and mouse")
      .auth("hp-bioscfg", "Setup Password", "bios-admin", true)
      .auth("hp-bioscfg", "Power-On Password", "power-on", false);
  auto snap = read_snapshot(f.str());
  REQUIRE(snap.interfaces.size() == 1);
  CHECK(snap.interfaces[0].settings.count(
            "Enhanced HP Firmware Runtime Intrusion Prevention and Detection") == 1);
  auto boot = check(f, "usb_boot_disabled");
  CHECK(boot.result == Verdict::Pass);
  CHECK(boot.evidence == "hp-bioscfg/USB Storage Boot = Disable");
  CHECK(check(f, "usb_storage_disabled").result == Verdict::Pass);
  auto pw = check(f, "admin_password");
  CHECK(pw.result == Verdict::Pass);
  CHECK(pw.evidence == "authentication/hp-bioscfg/Setup Password is_enabled = 1");

  // A value the table does not list is unknown, not a guess.
  f.setting("hp-bioscfg", "Restrict USB Devices", "Allow all but hubs");
  auto odd = check(f, "usb_storage_disabled");
  CHECK(odd.result == Verdict::Unknown);
  CHECK(odd.evidence ==
        "hp-bioscfg/Restrict USB Devices = Allow all but hubs (value not understood)");
  f.setting("hp-bioscfg", "Restrict USB Devices", "Allow all USB Devices");
  CHECK(check(f, "usb_storage_disabled").result == Verdict::Fail);
}

TEST_CASE("no firmware-attributes: everything but Secure Boot is unknown", "[firmware][checks]") {
  FakeSysfs f;
  f.efi(true, false).dmi_machine("ACME", "Box", "1.0", "01/01/2024", "SN1", "uuid-1");
  for (auto& c : read_checks(read_snapshot(f.str()))) {
    INFO(c.name);
    if (c.name == "secure_boot") {
      CHECK(c.result == Verdict::Pass);
    } else {
      CHECK(c.result == Verdict::Unknown);
      CHECK(c.evidence == "no firmware-attributes interface");
      CHECK(c.source == "none");
    }
  }
}

TEST_CASE("a vendor interface seatlock does not know gives unknown", "[firmware][checks]") {
  FakeSysfs g;
  g.setting("acme-bios", "UsbEmu", "Disabled").auth("acme-bios", "Admin", "bios-admin", true);
  auto c = check(g, "usb_boot_disabled");
  CHECK(c.result == Verdict::Unknown);
  CHECK(c.evidence == "vendor interface not in seatlock's table: acme-bios");
  CHECK(check(g, "admin_password").result == Verdict::Unknown);
}

TEST_CASE("Secure Boot on, off and in setup mode", "[firmware][checks]") {
  FakeSysfs f;
  f.efi(true, false);
  CHECK(check(f, "secure_boot").result == Verdict::Pass);
  f.efi(false, false);
  auto off = check(f, "secure_boot");
  CHECK(off.result == Verdict::Fail);
  CHECK(off.evidence == "efivars SecureBoot=0 SetupMode=0");
  f.efi(false, true);
  auto setup = check(f, "secure_boot");
  CHECK(setup.result == Verdict::Fail);
  CHECK(setup.evidence == "efivars SecureBoot=0 SetupMode=1 (setup mode)");
  // A truncated variable says nothing: unknown.
  seatlock::test::write_text(
      f.root() / "firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c",
      std::string("\x06\0\0", 3));
  seatlock::test::write_text(
      f.root() / "firmware/efi/efivars/SetupMode-8be4df61-93ca-11d2-aa0d-00e098032b8c",
      std::string("\x06\0\0\0\0", 5));
  auto bad = check(f, "secure_boot");
  CHECK(bad.result == Verdict::Unknown);
  CHECK(bad.evidence ==
        "efivars SecureBoot=unreadable (3 bytes) SetupMode=0; no firmware-attributes interface");
}
