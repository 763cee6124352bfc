// The USB enforcer in-process against umockdev testbeds: the test plays the kernel (plugs
// devices, emits uevents) and asserts what ends up in the sysfs files and the events.
#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/usb/usb_udev_rules.hpp"
#include "usb/usb_test_support.hpp"

using namespace seatlock;
using namespace seatlock::test;

namespace {

constexpr UnixMillis kNow = 1'795'000'000'000;

std::vector<std::string> authorized_states(UsbHarness& h, const std::string& port, std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(h.tb.authorized(port + ":1." + std::to_string(i)));
  return out;
}

using V = std::vector<std::string>;

}  // namespace

TEST_CASE("start: root hubs locked, devices present before start are decided", "[usb][umockdev]") {
  UsbHarness h;
  // Plugged (and bound by the kernel default) before seatlockd ran.
  h.tb.plug("1-1", catalog::dell_keyboard());
  h.tb.plug("1-2", catalog::kingston_stick());
  REQUIRE(h.tb.authorized("1-2:1.0") == "1");
  h.pump(kNow);  // nothing happens before the first policy

  h.enforcer->apply(UsbPolicy{}, kNow);
  h.enforcer->flush_reports(UsbEnforcer::Clock::now() + std::chrono::hours(1));
  CHECK(h.tb.attr("bus/usb/devices/usb1/interface_authorized_default") == "0");
  CHECK(authorized_states(h, "1-1", 2) == V{"1", "1"});
  CHECK(h.tb.authorized("1-2:1.0") == "0");  // unbound: the block device goes away

  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  const Event& e = blocked[0];
  CHECK(e.severity == "high");
  CHECK(e.outcome == "blocked");
  CHECK(e.mode == "enforce");
  CHECK(e.rule == "usb.storage");
  REQUIRE(e.user);
  CHECK(e.user->name == "zhang.wei");
  CHECK(e.details["vid"] == "0951");
  CHECK(e.details["pid"] == "1666");
  CHECK(e.details["serial"] == "E0D55EA573DCF450E97B0C5A");
  CHECK(e.details["product"] == "DataTraveler 3.0");
  CHECK(e.details["manufacturer"] == "Kingston");
  CHECK(e.details["port"] == "1-2");
  CHECK(e.details["interfaces"][0]["class"] == "08");
  CHECK(e.details["interfaces"][0]["authorized"] == false);
}

TEST_CASE("plugged devices: interfaces authorized per class, one event per blocked plug",
          "[usb][umockdev]") {
  struct Case {
    const char* what;
    FakeDevice dev;
    V expect;
  };
  const std::vector<Case> cases = {
      {"plain stick", catalog::kingston_stick(), {"0"}},
      {"UAS disk", catalog::samsung_t5_uas(), {"0"}},
      {"headset", catalog::poly_headset(), {"1", "1", "1", "1", "0"}},
      {"keyboard", catalog::dell_keyboard(), {"1", "1"}},
      {"mouse", catalog::logitech_mouse(), {"1"}},
      {"headset with storage", catalog::headset_with_storage(), {"1", "1", "1", "1", "0"}},
      {"Android MTP", catalog::pixel_mtp(), {"0"}},
      {"Android PTP", catalog::pixel_ptp(), {"0"}},
      {"RNDIS tethering", catalog::pixel_rndis(), {"0", "0"}},
      {"CDC-ECM adapter", catalog::rtl8153_ecm(), {"0", "0"}},
      {"card reader", catalog::genesys_card_reader(), {"0"}},
      {"quirk storage, vendor class", catalog::realtek_rts5129(), {"0"}},
  };
  for (const auto& c : cases) {
    SECTION(c.what) {
      UsbHarness h;
      h.enforcer->apply(UsbPolicy{}, kNow);
      h.tb.plug("1-4", c.dev);
      CHECK(h.pump(kNow) >= 1 + static_cast<int>(c.dev.interfaces.size()));
      CHECK(authorized_states(h, "1-4", c.dev.interfaces.size()) == c.expect);
      const bool any_blocked = std::count(c.expect.begin(), c.expect.end(), "0") > 0;
      auto blocked = h.sink.of_kind("usb.blocked");
      CHECK(blocked.size() == (any_blocked ? 1u : 0u));
      if (!blocked.empty()) {
        CHECK(blocked[0].details["interfaces"].size() == c.dev.interfaces.size());
        CHECK(blocked[0].details["trigger"] == "plug");
      }
      // every authorized interface was handed to drivers_probe (the last one written)
      if (!any_blocked)
        CHECK(h.tb.attr("bus/usb/drivers_probe") == "1-4:1." + std::to_string(c.expect.size() - 1));
    }
  }
}

TEST_CASE("hub with a keyboard and a stick behind it", "[usb][umockdev]") {
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  h.tb.plug("1-3", catalog::genesys_hub());
  h.tb.plug("1-3.1", catalog::dell_keyboard());
  h.tb.plug("1-3.2", catalog::kingston_stick());
  h.pump(kNow);
  CHECK(h.tb.authorized("1-3:1.0") == "1");
  CHECK(authorized_states(h, "1-3.1", 2) == V{"1", "1"});
  CHECK(h.tb.authorized("1-3.2:1.0") == "0");
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].details["port"] == "1-3.2");
}

TEST_CASE("exception by serial: match, wrong serial, expiry while plugged", "[usb][umockdev]") {
  UsbPolicy p;
  UsbException x = kingston_exception("IT-123", kNow + 7'200'000);
  p.exceptions = {x};

  UsbHarness h;
  h.enforcer->apply(p, kNow);
  CHECK(h.enforcer->next_expiry(kNow) == x.until);
  h.tb.plug("1-2", catalog::kingston_stick());
  FakeDevice other = catalog::kingston_stick();
  other.serial = "0019E06B9C74F9A0F7A4B8D2";
  h.tb.plug("1-5", other);
  h.pump(kNow);
  CHECK(h.tb.authorized("1-2:1.0") == "1");
  CHECK(h.tb.authorized("1-5:1.0") == "0");
  auto used = h.sink.of_kind("usb.exception_used");
  REQUIRE(used.size() == 1);
  CHECK(used[0].details["exception"]["ticket"] == "IT-123");
  CHECK(used[0].details["port"] == "1-2");
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].details["port"] == "1-5");
  CHECK(blocked[0].details["exception_misses"][0].get<std::string>().find("is for serial") !=
        std::string::npos);

  // the expiry timer fires at `until`: the stick loses its interface while plugged
  h.enforcer->expire(x.until);
  h.enforcer->flush_reports(UsbEnforcer::Clock::now() + std::chrono::hours(1));
  CHECK(h.tb.authorized("1-2:1.0") == "0");
  auto expired = h.sink.of_kind("usb.exception_expired");
  REQUIRE(expired.size() == 1);
  CHECK(expired[0].outcome == "blocked");
  CHECK(expired[0].details["devices"][0]["port"] == "1-2");
  CHECK(expired[0].details["devices"][0]["interfaces"][0]["authorized"] == false);
  CHECK_FALSE(h.enforcer->next_expiry(x.until).has_value());

  // and it stays blocked on replug
  h.tb.unplug("1-2");
  h.pump(x.until + 1000);
  h.tb.plug("1-2", catalog::kingston_stick());
  h.pump(x.until + 2000);
  CHECK(h.tb.authorized("1-2:1.0") == "0");
}

TEST_CASE("audit mode reports but lets everything bind", "[usb][umockdev]") {
  UsbPolicy p;
  p.mode = Mode::Audit;
  UsbHarness h;
  h.enforcer->apply(p, kNow);
  h.tb.plug("1-2", catalog::headset_with_storage());
  h.pump(kNow);
  CHECK(authorized_states(h, "1-2", 5) == V{"1", "1", "1", "1", "1"});
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].outcome == "reported");
  CHECK(blocked[0].mode == "audit");
  CHECK(blocked[0].details["interfaces"][4]["decision"] == "block");
  CHECK(blocked[0].details["interfaces"][4]["authorized"] == true);
}

TEST_CASE("a policy change that revokes an allowed class unbinds it", "[usb][umockdev]") {
  UsbPolicy p;
  p.allow_classes = {"hub", "hid", "audio", "video"};
  UsbHarness h;
  h.enforcer->apply(p, kNow);
  FakeDevice webcam{"046d",
                    "085b",
                    "8C3A2F10",
                    "Logitech",
                    "Logitech Webcam C925e",
                    0xef,
                    {{0x0e, 0x01, 0x00, ""},
                     {0x0e, 0x02, 0x00, ""},
                     {0x01, 0x01, 0x00, ""},
                     {0x01, 0x02, 0x00, ""}}};
  h.tb.plug("1-6", webcam);
  h.pump(kNow);
  CHECK(authorized_states(h, "1-6", 4) == V{"1", "1", "1", "1"});
  CHECK(h.sink.of_kind("usb.blocked").empty());

  p.allow_classes = {"hub", "hid", "audio"};
  h.enforcer->apply(p, kNow + 1000);
  h.enforcer->flush_reports(UsbEnforcer::Clock::now() + std::chrono::hours(1));
  CHECK(authorized_states(h, "1-6", 4) == V{"0", "0", "1", "1"});
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].details["trigger"] == "policy");
  CHECK(blocked[0].rule == "usb.classes");

  // re-applying the same policy is not a new finding
  h.enforcer->apply(p, kNow + 2000);
  h.enforcer->flush_reports(UsbEnforcer::Clock::now() + std::chrono::hours(1));
  CHECK(h.sink.of_kind("usb.blocked").size() == 1);
}

TEST_CASE("replug storm: one usb.blocked per device per quiet window", "[usb][umockdev]") {
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  for (int i = 0; i < 5; ++i) {
    h.tb.plug("1-2", catalog::pixel_mtp());
    h.pump(kNow);
    h.tb.unplug("1-2");
    h.pump(kNow);
  }
  CHECK(h.tb.attr("bus/usb/devices/usb1/interface_authorized_default") == "0");
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].details["suppressed_plugs"] == 0);
}

TEST_CASE("block watch: storage that bypassed the interface decision is detached",
          "[usb][umockdev]") {
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  SECTION("disk under a USB interface that got bound anyway") {
    h.tb.plug("1-2", catalog::ene_ub6250());
    h.pump(kNow);
    h.tb.set_attr("bus/usb/devices/1-2:1.0/authorized", "1");  // someone re-authorized it
    h.tb.add_disk("1-2:1.0", "sdb");
    h.pump(kNow);
    CHECK(h.tb.authorized("1-2:1.0") == "0");
    auto s = h.sink.of_kind("usb.storage_detected");
    REQUIRE(s.size() == 1);
    CHECK(s[0].outcome == "blocked");
    CHECK(s[0].details["action"] == "deauthorized USB interface 1-2:1.0");
    CHECK(s[0].details["device"]["vid"] == "0cf2");
  }
  SECTION("removable SCSI disk on a non-USB path is deleted") {
    h.tb.add_disk("", "sdc");
    h.pump(kNow);
    auto s = h.sink.of_kind("usb.storage_detected");
    REQUIRE(s.size() == 1);
    CHECK(s[0].details["action"] == "deleted SCSI device 6:0:0:0");
    CHECK(h.tb.attr("devices/0000:00:17.0/host6/target6:0:0/6:0:0:0/delete") == "1");
  }
  SECTION("internal SD card reader: the card is unbound") {
    h.tb.add_mmc_card("mmcblk0");
    h.pump(kNow);
    auto s = h.sink.of_kind("usb.storage_detected");
    REQUIRE(s.size() == 1);
    CHECK(s[0].details["path"] == "mmc");
    CHECK(s[0].details["action"] == "unbound MMC card mmc0:0001");
    CHECK(h.tb.attr("bus/mmc/drivers/mmcblk/unbind") == "mmc0:0001");
  }
  SECTION("a fixed internal disk is left alone") {
    h.tb.add_disk("", "sda", /*removable=*/false);
    h.pump(kNow);
    CHECK(h.sink.of_kind("usb.storage_detected").empty());
    CHECK(h.tb.attr("devices/0000:00:17.0/host6/target6:0:0/6:0:0:0/delete").empty());
  }
}

TEST_CASE("read-only exception: the block device is set read-only (BLKROSET)",
          "[usb][umockdev][root]") {
  // A loop device the test owns stands in for the stick's disk node.
  const std::string dir =
      std::filesystem::temp_directory_path() / ("sl-usb-ro-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir + "/dev");
  { std::ofstream(dir + "/img").put('\0'); }
  std::filesystem::resize_file(dir + "/img", 1 << 20);
  std::string loop;
  if (FILE* f =
          popen(("env -u LD_PRELOAD losetup -f --show " + dir + "/img 2>/dev/null").c_str(), "r")) {
    char buf[64] = {};
    if (fgets(buf, sizeof buf, f)) loop = buf;
    pclose(f);
  }
  while (!loop.empty() && loop.back() == '\n') loop.pop_back();
  if (loop.empty()) {
    WARN("no loop device available; skipping the BLKROSET check");
    return;
  }
  std::filesystem::create_symlink(loop, dir + "/dev/sdb");

  UsbPolicy p;
  UsbException x = kingston_exception("IT-77", kNow + 3'600'000);
  x.read_only = true;
  p.exceptions = {x};
  UsbEnforcerOptions o;
  o.dev_root = dir + "/dev";
  UsbHarness h(o);
  h.enforcer->apply(p, kNow);
  h.tb.plug("1-2", catalog::kingston_stick());
  h.pump(kNow);
  CHECK(h.tb.authorized("1-2:1.0") == "1");
  h.tb.add_disk("1-2:1.0", "sdb");
  h.pump(kNow);

  std::string ro;
  if (FILE* f = popen(("env -u LD_PRELOAD blockdev --getro " + loop).c_str(), "r")) {
    char buf[16] = {};
    if (fgets(buf, sizeof buf, f)) ro = buf;
    pclose(f);
  }
  std::system(("env -u LD_PRELOAD losetup -d " + loop).c_str());
  std::filesystem::remove_all(dir);
  CHECK(ro == "1\n");
  auto s = h.sink.of_kind("usb.storage_detected");
  REQUIRE(s.size() == 1);
  CHECK(s[0].outcome == "allowed");
  CHECK(s[0].details["read_only"] == "set");
  CHECK(s[0].details["exception"]["ticket"] == "IT-77");
}

TEST_CASE("udev rules are written on every apply", "[usb][umockdev]") {
  const std::string dir =
      std::filesystem::temp_directory_path() / ("sl-usb-rules-" + std::to_string(getpid()));
  UsbEnforcerOptions o;
  o.udev_rules_dir = dir;
  UsbHarness h(o);
  UsbPolicy p;
  h.enforcer->apply(p, kNow);
  std::ifstream f1(dir + "/" + kUsbUdevRulesFile);
  std::string first((std::istreambuf_iterator<char>(f1)), std::istreambuf_iterator<char>());
  CHECK(first == generate_usb_udev_rules(p));
  p.allow_classes.push_back("video");
  h.enforcer->apply(p, kNow);
  std::ifstream f2(dir + "/" + kUsbUdevRulesFile);
  std::string second((std::istreambuf_iterator<char>(f2)), std::istreambuf_iterator<char>());
  CHECK(second.find("# video") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE(
    "a device held back by usbcore.authorized_default=0 is admitted, its interfaces still decided",
    "[usb][umockdev]") {
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  h.tb.plug("1-4", catalog::dell_keyboard());
  h.tb.plug("1-5", catalog::kingston_stick());
  h.pump(kNow);
  // Play the kernel booted with usbcore.authorized_default=0: whole devices unauthorized, the
  // root hub not (yet) locked.
  h.tb.set_attr("bus/usb/devices/usb1/interface_authorized_default", "1");
  for (const char* dev : {"1-4", "1-5"}) {
    h.tb.set_attr(std::string("bus/usb/devices/") + dev + "/authorized", "0");
    h.tb.uevent(h.tb.syspath_of(dev), "change");
  }
  h.pump(kNow);
  CHECK(h.tb.attr("bus/usb/devices/usb1/interface_authorized_default") == "0");
  CHECK(h.tb.attr("bus/usb/devices/1-4/authorized") == "1");
  CHECK(h.tb.attr("bus/usb/devices/1-5/authorized") == "1");
  CHECK(authorized_states(h, "1-4", 2) == V{"1", "1"});  // the keyboard works
  CHECK(authorized_states(h, "1-5", 1) == V{"0"});       // the stick's storage still never binds
}

TEST_CASE("interfaces announced after their device are decided on their own events",
          "[usb][umockdev]") {
  // A real kernel sends the device's "add" before it configures the device, so reading the
  // device on that event may find no interfaces yet.
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  const FakeDevice headset = catalog::headset_with_storage();  // audio x3, HID, mass storage
  h.tb.plug_unconfigured("1-2", headset);
  h.pump(kNow);
  CHECK(h.sink.of_kind("usb.blocked").empty());
  for (std::size_t i = 0; i < headset.interfaces.size(); ++i)
    h.tb.add_interface("1-2", i, headset.interfaces[i]);
  h.pump(kNow);
  CHECK(authorized_states(h, "1-2", 5) == V{"1", "1", "1", "1", "0"});
  CHECK(h.tb.attr("bus/usb/drivers_probe") == "1-2:1.3");
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].details["product"] == headset.product);  // the device read at its "add"
  CHECK(blocked[0].details["interfaces"].size() == 5);
  CHECK(blocked[0].details["interfaces"][4]["class"] == "08");
}

TEST_CASE("an interface re-created with another class under the same name is decided again",
          "[usb][umockdev]") {
  // A configuration change removes the interfaces and adds the new configuration's, which may
  // reuse the names: what was decided for the old interface must not carry over.
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  h.tb.plug("1-3", catalog::logitech_mouse());
  h.pump(kNow);
  CHECK(h.tb.authorized("1-3:1.0") == "1");
  h.tb.remove_interface("1-3:1.0");
  // Arriving authorized (as with a hub whose lock was lost), so only a new decision blocks it.
  h.tb.set_attr("bus/usb/devices/usb1/interface_authorized_default", "1");
  h.tb.add_interface("1-3", 0, FakeInterface{0x08, 0x06, 0x50, "Mass Storage"});
  REQUIRE(h.tb.authorized("1-3:1.0") == "1");
  h.pump(kNow);
  CHECK(h.tb.authorized("1-3:1.0") == "0");
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].rule == "usb.storage");
}
