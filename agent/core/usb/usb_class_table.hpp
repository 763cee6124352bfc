#pragma once
// The one table of USB interface class names policy authors write in usb.allow_classes. Every
// other list follows it: the policy validator (core/policy/formats.cpp, which cannot link
// core/usb, hence header-only), the names and classification in usb_classes.cpp, the udev rule
// generator, the JSON Schema enum (policy/seatlock-policy.schema.json) and the table in
// policy/README.md. tests/usb/usb_class_table_test.cpp keeps the schema and README equal to it.
#include <array>
#include <cstdint>

namespace seatlock {

struct UsbClassRow {
  const char* name;     // as written in usb.allow_classes
  std::uint8_t code;    // bInterfaceClass (usb.org "Defined Class Codes")
  bool allowable;       // false: storage-like; only a device exception lets it bind
  const char* devices;  // the "typical devices" column of policy/README.md, word for word
};

// In class-code order.
inline constexpr std::array<UsbClassRow, 21> kUsbClassTable = {{
    {"audio", 0x01, true, "headsets, speakers"},
    {"cdc", 0x02, true,
     "serial modems (CDC ACM); CDC network models (ECM, NCM, EEM, MBIM) stay blocked"},
    {"hid", 0x03, true, "keyboards, mice, headset buttons"},
    {"physical", 0x05, true, "force-feedback devices"},
    {"still-image", 0x06, false,
     "cameras and phones in PTP mode — storage-like: **not allowable by name**"},
    {"printer", 0x07, true, "printers"},
    {"mass-storage", 0x08, false, "sticks, disks, card readers — **not allowable by name**"},
    {"hub", 0x09, true, "hubs"},
    {"cdc-data", 0x0a, false,
     "data interface of CDC devices (follows its control interface) — **not allowable by name**"},
    {"smart-card", 0x0b, true, "smart-card readers"},
    {"content-security", 0x0d, true, ""},
    {"video", 0x0e, true, "webcams"},
    {"personal-healthcare", 0x0f, true, ""},
    {"audio-video", 0x10, true, ""},
    {"billboard", 0x11, true, "USB-C alternate-mode billboards"},
    {"type-c-bridge", 0x12, true, ""},
    {"diagnostic", 0xdc, true, ""},
    {"wireless", 0xe0, true,
     "Bluetooth adapters (e0/01/01); RNDIS tethering (e0/01/03) stays blocked"},
    {"misc", 0xef, true, "miscellaneous; RNDIS (ef/04/01) stays blocked"},
    {"application", 0xfe, true, "DFU firmware update, IrDA"},
    {"vendor", 0xff, true,
     "vendor-specific; MTP phones, SCSI-like interfaces and known storage quirk VID:PIDs stay "
     "blocked"},
}};

}  // namespace seatlock
