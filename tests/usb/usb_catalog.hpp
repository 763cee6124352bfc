#pragma once
// Descriptions of real USB devices (vendor/product ids, class codes, interface strings) used by
// the USB tests and the benchmark.
#include <cstdint>
#include <string>
#include <vector>

#include "core/usb/usb_device.hpp"

namespace seatlock::test {

struct FakeInterface {
  std::uint8_t cls, subclass, protocol;
  std::string label;  // the interface string
};

struct FakeDevice {
  std::string vid, pid, serial, manufacturer, product;
  std::uint8_t device_class = 0;
  std::vector<FakeInterface> interfaces;
};

// The device descriptions (real devices, real class codes and interface strings).
namespace catalog {
FakeDevice kingston_stick();        // 0951:1666 DataTraveler 3.0, 08/06/50
FakeDevice samsung_t5_uas();        // 04e8:61f5 Portable SSD T5 on uas, 08/06/62
FakeDevice poly_headset();          // 047f:c056 Blackwire 3220: audio x3, HID, vendor DFU
FakeDevice dell_keyboard();         // 413c:2113 KB216: 03/01/01 + 03/00/00
FakeDevice logitech_mouse();        // 046d:c077 M105: 03/01/02
FakeDevice headset_with_storage();  // 1b3f:2008 GeneralPlus audio + HID + 08/06/50
FakeDevice pixel_mtp();             // 18d1:4ee1 Pixel, ff/ff/00 "MTP"
FakeDevice pixel_ptp();             // 18d1:4ee5 Pixel, 06/01/01 "PTP"
FakeDevice pixel_rndis();           // 18d1:4ee3 Pixel tethering, e0/01/03 + 0a/00/00
FakeDevice rtl8153_ecm();           // 0bda:8153 USB Ethernet in ECM config, 02/06/00 + 0a/00/00
FakeDevice genesys_hub();           // 05e3:0610 hub, 09/00/00
FakeDevice genesys_card_reader();   // 05e3:0747 USB3.0 card reader, 08/06/50
FakeDevice realtek_rts5129();       // 0bda:0129 card reader with vendor class ff/06/50
FakeDevice ene_ub6250();            // 0cf2:6250 SD reader, vendor class ff/ff/ff (quirk table)
}  // namespace catalog

// The core's view of a catalogue device plugged at `port` (interfaces unauthorized).
UsbDevice to_usb_device(const std::string& port, const FakeDevice& dev);

}  // namespace seatlock::test
