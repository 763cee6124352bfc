// The enforcer's plug path decides from the uevent's own keys (PRODUCT=, INTERFACE=) and the
// few sysfs attributes a decision needs, and reads the device's strings after the writes:
// what users see (decisions, event details, `usb list`) must be as with a full sysfs read.
#include <catch2/catch.hpp>
#include <string>

#include "os/usb/usb_uevent_ids.hpp"
#include "usb/usb_test_support.hpp"

using namespace seatlock;
using namespace seatlock::test;

namespace {

constexpr UnixMillis kNow = 1'795'000'000'000;

Uevent usb_event(const char* product, const char* type, const char* interface) {
  Uevent ev;
  ev.action = "add";
  ev.subsystem = "usb";
  ev.product = product;
  ev.type = type;
  ev.interface = interface;
  return ev;
}

}  // namespace

TEST_CASE("the identity in a USB uevent is read as sysfs shows it", "[usb][unit]") {
  // The kernel writes PRODUCT in hex without leading zeros, TYPE and INTERFACE in decimal.
  const UsbUeventIds ids = usb_uevent_ids(usb_event("951/1666/110", "0/0/0", "8/6/80"));
  CHECK(ids.vid == "0951");
  CHECK(ids.pid == "1666");
  CHECK(ids.device_class == std::uint8_t{0});
  REQUIRE(ids.interface_class);
  CHECK((*ids.interface_class)[0] == 0x08);
  CHECK((*ids.interface_class)[1] == 0x06);
  CHECK((*ids.interface_class)[2] == 0x50);

  const UsbUeventIds hub = usb_uevent_ids(usb_event("1D6B/2/415", "9/0/1", ""));
  CHECK(hub.vid == "1d6b");
  CHECK(hub.pid == "0002");
  CHECK(hub.device_class == std::uint8_t{9});
  CHECK_FALSE(hub.interface_class);

  // Anything malformed is as if not sent: the enforcer then reads sysfs.
  for (const char* bad : {"", "951/1666", "951/1666/110/1", "951//110", "x51/1666/110", "10000/1/1",
                          "951/1666/110 "}) {
    INFO(bad);
    CHECK(usb_uevent_ids(usb_event(bad, "", "")).vid.empty());
  }
  CHECK_FALSE(usb_uevent_ids(usb_event("", "", "256/0/0")).interface_class);
  CHECK_FALSE(usb_uevent_ids(usb_event("", "", "3/1")).interface_class);
}

TEST_CASE("an interface's class is read from the end of its modalias", "[usb][unit]") {
  auto t = interface_class_of_modalias("usb:v0951p1666d0110dc00dsc00dp00ic08isc06ip50in00");
  REQUIRE(t);
  CHECK((*t)[0] == 0x08);
  CHECK((*t)[1] == 0x06);
  CHECK((*t)[2] == 0x50);
  t = interface_class_of_modalias("usb:v18D1p4EE1d0440dc00dsc00dp00icFFiscFFip00in00");
  REQUIRE(t);
  CHECK((*t)[0] == 0xff);
  for (const char* bad : {"", "usb:v0951p1666d0110dc00dsc00dp00", "ic08isc06ip50in0",
                          "usb:v0951p1666d0110dc00dsc00dp00ic08isc06ip5Gin00",
                          "usb:v0951p1666d0110dc00dsc00dp00ic08xsc06ip50in00"}) {
    INFO(bad);
    CHECK_FALSE(interface_class_of_modalias(bad));
  }
}

TEST_CASE("interfaces with a kernel modalias are decided as by their class files",
          "[usb][umockdev]") {
  // The testbed's interfaces have only the class files; a kernel's also have `modalias`.
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  h.tb.plug("1-2", catalog::kingston_stick());
  h.tb.plug("1-3", catalog::dell_keyboard());
  h.tb.set_attr("bus/usb/devices/1-2:1.0/modalias",
                "usb:v0951p1666d0100dc00dsc00dp00ic08isc06ip50in00");
  h.tb.set_attr("bus/usb/devices/1-3:1.0/modalias",
                "usb:v413Cp2113d0100dc00dsc00dp00ic03isc01ip01in00");
  h.tb.set_attr("bus/usb/devices/1-3:1.1/modalias",
                "usb:v413Cp2113d0100dc00dsc00dp00ic03isc00ip00in01");
  h.pump(kNow);
  CHECK(h.tb.authorized("1-2:1.0") == "0");
  CHECK(h.tb.authorized("1-3:1.0") == "1");
  CHECK(h.tb.authorized("1-3:1.1") == "1");
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].rule == "usb.storage");
  CHECK(blocked[0].details["interfaces"][0]["protocol"] == "50");
}

TEST_CASE("a plugged device's event still names it by serial, maker, product and interface",
          "[usb][umockdev]") {
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  h.tb.plug("1-2", catalog::kingston_stick());
  h.tb.plug("1-3", catalog::pixel_mtp());
  h.pump(kNow);
  CHECK(h.tb.authorized("1-2:1.0") == "0");
  CHECK(h.tb.authorized("1-3:1.0") == "0");
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 2);
  const auto& stick = blocked[0].details["port"] == "1-2" ? blocked[0] : blocked[1];
  const auto& phone = blocked[0].details["port"] == "1-3" ? blocked[0] : blocked[1];
  CHECK(stick.details["vid"] == "0951");
  CHECK(stick.details["pid"] == "1666");
  CHECK(stick.details["serial"] == "E0D55EA573DCF450E97B0C5A");
  CHECK(stick.details["manufacturer"] == "Kingston");
  CHECK(stick.details["product"] == "DataTraveler 3.0");
  // MTP is told by the interface string alone (class ff/ff/00): it is read before deciding.
  CHECK(phone.rule == "usb.storage");
  CHECK(phone.details["interfaces"][0]["name"] == "mtp");
  CHECK(phone.details["interfaces"][0]["interface"] == "MTP");
  CHECK(phone.details["serial"] == "28131FDH2000FX");
  CHECK(phone.details["product"] == "Pixel 7");
}

TEST_CASE("an exception for one serial admits that device on plug but not its twin",
          "[usb][umockdev]") {
  UsbPolicy p;
  UsbException x = kingston_exception("IT-77", kNow + 3'600'000);
  p.exceptions = {x};

  UsbHarness h;
  h.enforcer->apply(p, kNow);
  FakeDevice twin = catalog::kingston_stick();
  twin.serial = "0019E06B9C74F9A0F7A4B8D2";
  h.tb.plug("1-5", twin);
  h.tb.plug("1-2", catalog::kingston_stick());
  h.pump(kNow);
  CHECK(h.tb.authorized("1-2:1.0") == "1");
  CHECK(h.tb.authorized("1-5:1.0") == "0");
  auto used = h.sink.of_kind("usb.exception_used");
  REQUIRE(used.size() == 1);
  CHECK(used[0].details["serial"] == x.serial);
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].details["serial"] == twin.serial);
  // The miss is worded when deciding, so it shows the serial was there before the decision.
  const std::string miss = blocked[0].details["exception_misses"][0];
  CHECK(miss.find("device has \"" + twin.serial + "\"") != std::string::npos);
}

TEST_CASE("usb list shows the strings of an allowed device plugged after start",
          "[usb][umockdev]") {
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  h.tb.plug("1-4", catalog::dell_keyboard());
  h.pump(kNow);
  CHECK(h.tb.authorized("1-4:1.0") == "1");
  CHECK(h.sink.events.empty());  // an allowed plug is not reported
  const nlohmann::json list = h.enforcer->list();
  const nlohmann::json* kb = nullptr;
  for (const auto& d : list["devices"])
    if (d["port"] == "1-4") kb = &d;
  REQUIRE(kb);
  CHECK((*kb)["vid"] == "413c");
  CHECK((*kb)["manufacturer"] == "Dell Computer Corp.");
  CHECK((*kb)["product"] == "Dell KB216 Wired Keyboard");
  CHECK((*kb)["interfaces"].size() == 2);
}

TEST_CASE("interfaces whose uevent gives their class are decided from it", "[usb][umockdev]") {
  // As a real kernel does: the device's "add" before its interfaces, each interface's "add"
  // carrying INTERFACE=class/subclass/protocol in decimal.
  UsbHarness h;
  h.enforcer->apply(UsbPolicy{}, kNow);
  const FakeDevice headset = catalog::headset_with_storage();  // audio x3, HID, mass storage
  h.tb.plug_unconfigured("1-2", headset);
  h.pump(kNow);
  for (std::size_t i = 0; i < headset.interfaces.size(); ++i)
    h.tb.add_interface("1-2", i, headset.interfaces[i]);
  int delivered = 0;
  for (;;) {
    pollfd pfd{h.monitor.fd(), POLLIN, 0};
    if (::poll(&pfd, 1, 20) <= 0) break;
    while (auto ev = h.monitor.receive()) {
      const std::string name = ev->sysname;
      const FakeInterface& f = headset.interfaces.at(std::stoul(name.substr(name.rfind('.') + 1)));
      ev->interface = std::to_string(f.cls) + "/" + std::to_string(f.subclass) + "/" +
                      std::to_string(f.protocol);
      h.enforcer->handle(*ev, kNow);
      ++delivered;
    }
  }
  h.enforcer->flush_reports(UsbEnforcer::Clock::now() + std::chrono::hours(1));
  CHECK(delivered == static_cast<int>(headset.interfaces.size()));
  for (std::size_t i = 0; i + 1 < headset.interfaces.size(); ++i)
    CHECK(h.tb.authorized("1-2:1." + std::to_string(i)) == "1");
  CHECK(h.tb.authorized("1-2:1.4") == "0");
  auto blocked = h.sink.of_kind("usb.blocked");
  REQUIRE(blocked.size() == 1);
  CHECK(blocked[0].rule == "usb.storage");
  CHECK(blocked[0].details["product"] == headset.product);
  const auto& storage = blocked[0].details["interfaces"][4];
  CHECK(storage["class"] == "08");
  CHECK(storage["subclass"] == "06");
  CHECK(storage["protocol"] == "50");
}
