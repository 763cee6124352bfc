#pragma once
// A USB device as seatlock sees it: identity strings from the device descriptor and one entry
// per interface of the active configuration. Filled by os/usb from sysfs; plain values here.
#include <cstdint>
#include <string>
#include <vector>

namespace seatlock {

struct UsbInterface {
  std::string name;           // sysfs name, e.g. "1-2:1.0"
  int number = 0;             // bInterfaceNumber
  std::uint8_t cls = 0;       // bInterfaceClass
  std::uint8_t subclass = 0;  // bInterfaceSubClass
  std::uint8_t protocol = 0;  // bInterfaceProtocol
  std::string label;          // the interface string ("MTP", "Mass Storage"), may be empty
  bool authorized = false;    // current sysfs `authorized`
  bool bound = false;         // a driver is bound (sysfs `driver` link)
};

struct UsbDevice {
  std::string port;  // sysfs name = port path, e.g. "1-2", "3-1.4"; root hubs are "usbN"
  std::string vid;   // 4 lower-case hex digits
  std::string pid;
  std::string serial;
  std::string manufacturer;
  std::string product;
  std::uint8_t device_class = 0;  // bDeviceClass (09 for hubs)
  // Device-level sysfs `authorized`; false: held back (usbcore.authorized_default=0).
  bool authorized = true;
  std::vector<UsbInterface> interfaces;

  bool is_root_hub() const { return port.rfind("usb", 0) == 0; }
};

// "08" / "0e": two lower-case hex digits.
std::string hex2(std::uint8_t v);
// Parses "08", "0x08", "ff" (the sysfs forms); false when not a byte in hex.
bool parse_hex_byte(const std::string& text, std::uint8_t& out);

}  // namespace seatlock
