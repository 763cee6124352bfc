#include "core/usb/usb_classes.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "core/usb/usb_class_table.hpp"

namespace seatlock {
namespace {

// Interface class codes (usb.org "Defined Class Codes") this file decides on by number; the
// names of all classes come from usb_class_table.
constexpr std::uint8_t kComm = 0x02, kImage = 0x06, kStorage = 0x08, kHub = 0x09, kCdcData = 0x0a,
                       kWireless = 0xe0, kMisc = 0xef, kVendor = 0xff;

struct QuirkId {
  const char* vid;
  const char* pid;
};

// Storage devices that report the vendor-specific class and are bound by VID:PID
// (drivers/usb/storage/unusual_*.h, ums-* sub-drivers, rtsx_usb card readers).
constexpr QuirkId kQuirkStorage[] = {
    {"0bda", "0129"},  // Realtek RTS5129 card reader (rtsx_usb)
    {"0bda", "0139"},  // Realtek RTS5139 card reader (rtsx_usb)
    {"0bda", "0140"},  // Realtek RTS5140 card reader (rtsx_usb)
    {"0cf2", "6250"},  // ENE UB6250 SD/MS reader (ums-eneub6250)
    {"07c4", "a000"},  // Datafab MDCFE-B CF reader (ums-datafab)
    {"07c4", "a001"},  // Datafab / Simple Tech CF reader (ums-datafab)
    {"07c4", "a109"},  // Datafab LC1 CF+SM reader (ums-datafab)
    {"07b4", "010a"},  // Olympus MAUSB-10 xD reader (ums-alauda)
    {"0584", "0008"},  // Fujifilm DPC-R1 SmartMedia reader (ums-alauda)
};

}  // namespace

std::string hex2(std::uint8_t v) {
  char buf[3];
  std::snprintf(buf, sizeof buf, "%02x", v);
  return buf;
}

bool parse_hex_byte(const std::string& text, std::uint8_t& out) {
  std::string t = text;
  while (!t.empty() && (t.back() == '\n' || t.back() == ' ')) t.pop_back();
  if (t.rfind("0x", 0) == 0 || t.rfind("0X", 0) == 0) t = t.substr(2);
  if (t.empty() || t.size() > 2) return false;
  unsigned v = 0;
  for (char c : t) {
    v <<= 4;
    if (c >= '0' && c <= '9')
      v |= static_cast<unsigned>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v |= static_cast<unsigned>(c - 'a' + 10);
    else if (c >= 'A' && c <= 'F')
      v |= static_cast<unsigned>(c - 'A' + 10);
    else
      return false;
  }
  out = static_cast<std::uint8_t>(v);
  return true;
}

const std::vector<UsbClassName>& usb_class_names() {
  static const std::vector<UsbClassName> kNames = [] {
    std::vector<UsbClassName> v;
    for (const auto& row : kUsbClassTable)
      v.push_back({row.name, row.code, row.devices, row.allowable});
    return v;
  }();
  return kNames;
}

const UsbClassName* usb_class_by_name(const std::string& name) {
  for (const auto& c : usb_class_names())
    if (name == c.name) return &c;
  return nullptr;
}

std::vector<std::string> check_allow_classes(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string where = "usb.allow_classes[" + std::to_string(i) + "]: \"" + names[i] + "\"";
    const UsbClassName* c = usb_class_by_name(names[i]);
    if (!c) {
      std::string known;
      for (const auto& n : usb_class_names())
        known += (known.empty() ? "" : ", ") + std::string(n.name);
      out.push_back(where + " is not a known class name (known: " + known + ")");
    } else if (!c->allowable) {
      out.push_back(where + " cannot be allowed by class (storage-like); use a device exception");
    }
  }
  return out;
}

const char* to_string(StorageKind k) {
  switch (k) {
    case StorageKind::None:
      return "none";
    case StorageKind::Storage:
      return "storage";
    case StorageKind::Phone:
      return "phone";
    case StorageKind::Network:
      return "network";
  }
  return "none";
}

const std::vector<std::pair<std::string, std::string>>& quirk_storage_ids() {
  static const std::vector<std::pair<std::string, std::string>> kIds = [] {
    std::vector<std::pair<std::string, std::string>> v;
    for (const auto& q : kQuirkStorage) v.emplace_back(q.vid, q.pid);
    return v;
  }();
  return kIds;
}

bool is_quirk_storage(const std::string& vid, const std::string& pid) {
  return std::any_of(std::begin(kQuirkStorage), std::end(kQuirkStorage),
                     [&](const QuirkId& q) { return vid == q.vid && pid == q.pid; });
}

std::string class_triple(const UsbInterface& itf) {
  return hex2(itf.cls) + "/" + hex2(itf.subclass) + "/" + hex2(itf.protocol);
}

namespace {

// CDC control subclasses that make a network adapter: ECM 06, EEM 0c, NCM 0d, MBIM 0e.
bool is_cdc_network_control(const UsbInterface& i) {
  return i.cls == kComm &&
         (i.subclass == 0x06 || i.subclass == 0x0c || i.subclass == 0x0d || i.subclass == 0x0e);
}
bool is_rndis(const UsbInterface& i) {
  return (i.cls == kWireless && i.subclass == 0x01 && i.protocol == 0x03) ||
         (i.cls == kMisc && i.subclass == 0x04 && i.protocol == 0x01) ||
         (i.cls == kComm && i.subclass == 0x02 && i.protocol == 0xff);  // RNDIS as "ACM vendor"
}
std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

InterfaceClass classify_interface(const UsbDevice& dev, const UsbInterface& itf) {
  InterfaceClass out;
  const std::string triple = class_triple(itf);
  auto storage = [&](StorageKind k, std::string label, std::string why) {
    out.storage = k;
    out.label = std::move(label);
    out.storage_why = std::move(why);
    return out;
  };
  // Quirk devices are storage whatever their interfaces claim.
  if (is_quirk_storage(dev.vid, dev.pid) && itf.cls != kHub)
    return storage(StorageKind::Storage, "quirk-storage",
                   "usb-storage quirk device " + dev.vid + ":" + dev.pid + " (" + triple + ")");
  if (is_rndis(itf))
    return storage(StorageKind::Network, "rndis", "RNDIS network adapter (" + triple + ")");
  if (is_cdc_network_control(itf))
    return storage(StorageKind::Network, "cdc-network", "CDC network adapter (" + triple + ")");
  switch (itf.cls) {
    case kStorage:
      return storage(StorageKind::Storage,
                     itf.protocol == 0x62 ? "mass-storage (UAS)" : "mass-storage",
                     "mass storage (" + triple + ")");
    case kImage:
      return storage(StorageKind::Phone, "still-image (PTP)", "still image / PTP (" + triple + ")");
    case kCdcData: {
      bool network = std::any_of(
          dev.interfaces.begin(), dev.interfaces.end(),
          [](const UsbInterface& o) { return is_cdc_network_control(o) || is_rndis(o); });
      if (network)
        return storage(StorageKind::Network, "cdc-data (network)",
                       "data interface of a CDC network adapter (" + triple + ")");
      bool acm =
          std::any_of(dev.interfaces.begin(), dev.interfaces.end(),
                      [](const UsbInterface& o) { return o.cls == kComm && o.subclass == 0x02; });
      out.label = "cdc-data";
      if (acm) out.name = "cdc";  // the modem's data pipe follows the modem
      return out;
    }
    case kVendor: {
      if (lower(itf.label).find("mtp") != std::string::npos)
        return storage(StorageKind::Phone, "mtp", "MTP (interface string \"" + itf.label + "\")");
      if (itf.subclass == 0x06 && (itf.protocol == 0x50 || itf.protocol == 0x62))
        return storage(StorageKind::Storage, "vendor-scsi",
                       "vendor-class SCSI transport (" + triple + ")");
      break;
    }
    case kComm:
      if (itf.subclass != 0x02) {  // only ACM modems are nameable; other CDC models stay unnamed
        out.label = "cdc-" + hex2(itf.subclass);
        return out;
      }
      out.name = "cdc";
      out.label = "cdc-acm";
      return out;
    case kWireless:
      if (!(itf.subclass == 0x01 && itf.protocol == 0x01)) {
        out.label = "wireless-" + hex2(itf.subclass) + "-" + hex2(itf.protocol);
        return out;
      }
      out.name = "wireless";
      out.label = "bluetooth";
      return out;
    default:
      break;
  }
  for (const auto& c : usb_class_names()) {
    if (c.code == itf.cls && c.allowable) {
      out.name = c.name;
      out.label = c.name;
      return out;
    }
  }
  out.label = "class-" + hex2(itf.cls);
  return out;
}

}  // namespace seatlock
