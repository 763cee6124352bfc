// Core USB decisions for the catalogue of real devices, exceptions and the class table.
#include "core/usb/usb_decision.hpp"

#include <catch2/catch.hpp>

#include "usb/usb_catalog.hpp"

using namespace seatlock;
using namespace seatlock::test;

namespace {

constexpr UnixMillis kNow = 1'795'000'000'000;  // 2026-11-18

std::vector<bool> allowed(const DeviceDecision& d) {
  std::vector<bool> out;
  for (const auto& i : d.interfaces) out.push_back(i.allow);
  return out;
}

DeviceDecision decide(const FakeDevice& f, const UsbPolicy& p = UsbPolicy{},
                      const std::string& port = "1-2") {
  return decide_usb(to_usb_device(port, f), p, kNow);
}

UsbException stick_exception(std::optional<std::string> serial,
                             UnixMillis until = kNow + 3'600'000) {
  UsbException e;
  e.vid = "0951";
  e.pid = "1666";
  e.serial = std::move(serial);
  e.until = until;
  e.ticket = "IT-123";
  e.source = "policy.d/80-usb-exception-IT-123.json";
  return e;
}

}  // namespace

TEST_CASE("default policy: storage, phones and network adapters are blocked", "[usb][core]") {
  CHECK(allowed(decide(catalog::kingston_stick())) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::samsung_t5_uas())) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::genesys_card_reader())) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::realtek_rts5129())) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::ene_ub6250())) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::pixel_mtp())) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::pixel_ptp())) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::pixel_rndis())) == std::vector<bool>{false, false});
  CHECK(allowed(decide(catalog::rtl8153_ecm())) == std::vector<bool>{false, false});

  auto uas = decide(catalog::samsung_t5_uas());
  CHECK(uas.interfaces[0].rule == "usb.storage");
  CHECK(uas.interfaces[0].klass.label == "mass-storage (UAS)");
  CHECK(decide(catalog::pixel_mtp()).interfaces[0].klass.storage == StorageKind::Phone);
  CHECK(decide(catalog::pixel_rndis()).interfaces[1].klass.storage == StorageKind::Network);
  CHECK(decide(catalog::ene_ub6250()).interfaces[0].klass.label == "quirk-storage");
}

TEST_CASE("default policy: headset, keyboard, mouse and hub work, extra interfaces do not",
          "[usb][core]") {
  CHECK(allowed(decide(catalog::dell_keyboard())) == std::vector<bool>{true, true});
  CHECK(allowed(decide(catalog::logitech_mouse())) == std::vector<bool>{true});
  CHECK(allowed(decide(catalog::genesys_hub())) == std::vector<bool>{true});
  // audio control + 2 streaming + HID allowed, the vendor DFU interface is not
  CHECK(allowed(decide(catalog::poly_headset())) ==
        std::vector<bool>{true, true, true, true, false});
  auto combo = decide(catalog::headset_with_storage());
  CHECK(allowed(combo) == std::vector<bool>{true, true, true, true, false});
  CHECK(combo.rule() == "usb.storage");
  CHECK(combo.interfaces[4].reason.find("mass storage (08/06/50)") != std::string::npos);
  CHECK(combo.interfaces[3].reason == "class hid is allowed");
}

TEST_CASE("allowing vendor class never lets MTP, vendor SCSI or quirk storage through",
          "[usb][core]") {
  UsbPolicy p;
  p.allow_classes = {"hub", "hid", "audio", "vendor", "wireless", "misc"};
  CHECK(allowed(decide(catalog::poly_headset(), p)).back() == true);  // DFU now allowed
  CHECK(allowed(decide(catalog::pixel_mtp(), p)) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::realtek_rts5129(), p)) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::ene_ub6250(), p)) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::pixel_rndis(), p)) == std::vector<bool>{false, false});
}

TEST_CASE("a class missing from the allowlist is blocked with the reason", "[usb][core]") {
  UsbPolicy p;
  p.allow_classes = {"hub", "audio"};
  auto kb = decide(catalog::dell_keyboard(), p);
  CHECK(allowed(kb) == std::vector<bool>{false, false});
  CHECK(kb.interfaces[0].rule == "usb.classes");
  CHECK(kb.interfaces[0].reason == "hid (03/01/01): class hid is not in usb.allow_classes");
}

TEST_CASE("CDC ACM modems follow the cdc class, CDC network adapters never do", "[usb][core]") {
  FakeDevice modem{"1546",
                   "01a8",
                   "",
                   "u-blox AG",
                   "u-blox GNSS receiver",
                   0x02,
                   {{0x02, 0x02, 0x01, ""}, {0x0a, 0x00, 0x00, ""}}};
  UsbPolicy p;
  p.allow_classes = {"hub", "hid", "audio", "cdc"};
  CHECK(allowed(decide(modem, p)) == std::vector<bool>{true, true});
  CHECK(allowed(decide(catalog::rtl8153_ecm(), p)) == std::vector<bool>{false, false});
  CHECK(allowed(decide(modem)) == std::vector<bool>{false, false});
}

TEST_CASE("exception by serial: match, wrong serial, expired, port", "[usb][core]") {
  UsbPolicy p;
  p.exceptions = {stick_exception(std::string("E0D55EA573DCF450E97B0C5A"))};
  auto ok = decide(catalog::kingston_stick(), p);
  CHECK(allowed(ok) == std::vector<bool>{true});
  REQUIRE(ok.exception);
  CHECK(ok.exception->ticket == "IT-123");
  CHECK(ok.interfaces[0].rule == "usb.exceptions");

  FakeDevice other = catalog::kingston_stick();
  other.serial = "0019E06B9C74F9A0F7A4B8D2";
  auto wrong = decide(other, p);
  CHECK(allowed(wrong) == std::vector<bool>{false});
  REQUIRE(wrong.exception_misses.size() == 1);
  CHECK(wrong.exception_misses[0].find("is for serial \"E0D55EA573DCF450E97B0C5A\"") !=
        std::string::npos);

  p.exceptions = {stick_exception(std::nullopt, kNow)};  // until == now: no longer valid
  auto expired = decide(catalog::kingston_stick(), p);
  CHECK(allowed(expired) == std::vector<bool>{false});
  CHECK(expired.exception_misses.at(0).find("expired at") != std::string::npos);

  auto e = stick_exception(std::nullopt);
  e.port = "1-4";
  p.exceptions = {e};
  CHECK(allowed(decide(catalog::kingston_stick(), p, "1-2")) == std::vector<bool>{false});
  CHECK(allowed(decide(catalog::kingston_stick(), p, "1-4")) == std::vector<bool>{true});
}

TEST_CASE("allow_classes check rejects storage-like and unknown names", "[usb][core]") {
  CHECK(check_allow_classes({"hub", "hid", "audio", "video", "printer", "smart-card", "wireless"})
            .empty());
  auto bad = check_allow_classes({"hid", "mass-storage", "floppy"});
  REQUIRE(bad.size() == 2);
  CHECK(bad[0] ==
        "usb.allow_classes[1]: \"mass-storage\" cannot be allowed by class (storage-like); use a "
        "device exception");
  CHECK(bad[1].rfind("usb.allow_classes[2]: \"floppy\" is not a known class name", 0) == 0);
}

TEST_CASE("event details carry every interface with class codes and authorized state",
          "[usb][core]") {
  auto dev = to_usb_device("1-2", catalog::headset_with_storage());
  auto d = decide_usb(dev, UsbPolicy{}, kNow);
  auto j = usb_event_details(dev, d, true);
  CHECK(j["vid"] == "1b3f");
  CHECK(j["port"] == "1-2");
  REQUIRE(j["interfaces"].size() == 5);
  CHECK(j["interfaces"][4]["class"] == "08");
  CHECK(j["interfaces"][4]["subclass"] == "06");
  CHECK(j["interfaces"][4]["protocol"] == "50");
  CHECK(j["interfaces"][4]["authorized"] == false);
  CHECK(j["interfaces"][0]["authorized"] == true);
  // audit mode: reported, but left authorized
  CHECK(usb_event_details(dev, d, false)["interfaces"][4]["authorized"] == true);
}
