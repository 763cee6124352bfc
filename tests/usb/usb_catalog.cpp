#include "usb/usb_catalog.hpp"

namespace seatlock::test {

namespace catalog {

FakeDevice kingston_stick() {
  return {"0951",
          "1666",
          "E0D55EA573DCF450E97B0C5A",
          "Kingston",
          "DataTraveler 3.0",
          0,
          {{0x08, 0x06, 0x50, ""}}};
}
FakeDevice samsung_t5_uas() {
  return {
      "04e8", "61f5", "1234567DDA1E", "Samsung", "Portable SSD T5", 0, {{0x08, 0x06, 0x62, ""}}};
}
FakeDevice poly_headset() {
  return {"047f",
          "c056",
          "D1CEC32927974D5F9BD6B2AEBF2EA8E3",
          "Plantronics",
          "Plantronics Blackwire 3220 Series",
          0,
          {{0x01, 0x01, 0x00, ""},
           {0x01, 0x02, 0x00, ""},
           {0x01, 0x02, 0x00, ""},
           {0x03, 0x00, 0x00, ""},
           {0xff, 0x00, 0x00, "DFU"}}};
}
FakeDevice dell_keyboard() {
  return {"413c",
          "2113",
          "",
          "Dell Computer Corp.",
          "Dell KB216 Wired Keyboard",
          0,
          {{0x03, 0x01, 0x01, ""}, {0x03, 0x00, 0x00, ""}}};
}
FakeDevice logitech_mouse() {
  return {"046d", "c077", "", "Logitech", "USB Optical Mouse", 0, {{0x03, 0x01, 0x02, ""}}};
}
FakeDevice headset_with_storage() {
  return {"1b3f",
          "2008",
          "",
          "GeneralPlus",
          "USB Audio Device",
          0,
          {{0x01, 0x01, 0x00, ""},
           {0x01, 0x02, 0x00, ""},
           {0x01, 0x02, 0x00, ""},
           {0x03, 0x00, 0x00, ""},
           {0x08, 0x06, 0x50, "Mass Storage"}}};
}
FakeDevice pixel_mtp() {
  return {"18d1", "4ee1", "28131FDH2000FX", "Google", "Pixel 7", 0, {{0xff, 0xff, 0x00, "MTP"}}};
}
FakeDevice pixel_ptp() {
  return {"18d1", "4ee5", "28131FDH2000FX", "Google", "Pixel 7", 0, {{0x06, 0x01, 0x01, "PTP"}}};
}
FakeDevice pixel_rndis() {
  return {"18d1",
          "4ee3",
          "28131FDH2000FX",
          "Google",
          "Pixel 7",
          0xef,
          {{0xe0, 0x01, 0x03, "RNDIS Communications Control"},
           {0x0a, 0x00, 0x00, "RNDIS Ethernet Data"}}};
}
FakeDevice rtl8153_ecm() {
  return {"0bda",
          "8153",
          "000001",
          "Realtek",
          "USB 10/100/1000 LAN",
          0,
          {{0x02, 0x06, 0x00, "CDC Communications Control"}, {0x0a, 0x00, 0x00, "Ethernet Data"}}};
}
FakeDevice genesys_hub() {
  return {"05e3", "0610", "", "GenesysLogic", "USB2.1 Hub", 0x09, {{0x09, 0x00, 0x00, ""}}};
}
FakeDevice genesys_card_reader() {
  return {
      "05e3", "0747", "000000001532", "Generic", "USB3.0 Card Reader", 0, {{0x08, 0x06, 0x50, ""}}};
}
FakeDevice realtek_rts5129() {
  return {"0bda",       "0129", "20100201396000000",     "Generic",
          "USB2.0-CRW", 0,      {{0xff, 0x06, 0x50, ""}}};
}
FakeDevice ene_ub6250() {
  return {"0cf2", "6250", "", "ENE", "UB6250 Reader", 0, {{0xff, 0xff, 0xff, ""}}};
}

}  // namespace catalog

UsbDevice to_usb_device(const std::string& port, const FakeDevice& dev) {
  UsbDevice d;
  d.port = port;
  d.vid = dev.vid;
  d.pid = dev.pid;
  d.serial = dev.serial;
  d.manufacturer = dev.manufacturer;
  d.product = dev.product;
  d.device_class = dev.device_class;
  for (std::size_t i = 0; i < dev.interfaces.size(); ++i) {
    const auto& f = dev.interfaces[i];
    UsbInterface itf;
    itf.name = port + ":1." + std::to_string(i);
    itf.number = static_cast<int>(i);
    itf.cls = f.cls;
    itf.subclass = f.subclass;
    itf.protocol = f.protocol;
    itf.label = f.label;
    d.interfaces.push_back(itf);
  }
  return d;
}

}  // namespace seatlock::test
