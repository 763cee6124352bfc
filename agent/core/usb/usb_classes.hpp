#pragma once
// The names policy authors use for USB interface classes (usb.allow_classes) and how each
// interface is classified, including the "storage-like" interfaces that are never allowed by
// class name: they let data leave the seat (or let the seat bypass egress) and need a device
// exception.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/usb/usb_device.hpp"

namespace seatlock {

struct UsbClassName {
  const char* name;         // as written in usb.allow_classes
  std::uint8_t code;        // bInterfaceClass
  const char* description;  // typical devices (the policy/README.md table)
  bool allowable;           // false: storage-like, only a device exception lets it through
};

// Every name policy may use, in class-code order (from usb_class_table.hpp). Notes on the less
// obvious ones:
//  "wireless"  e0: only Bluetooth (e0/01/01) is allowed by it; RNDIS (e0/01/03) is a network
//              adapter and storage-like.
//  "cdc"   02/02 serial modems and their 0a data interface; CDC network models (ECM, NCM,
//              EEM, MBIM) and their data interfaces are storage-like.
//  "misc"      ef: RNDIS over ef/04/01 stays blocked.
//  "vendor" ff: MTP (interface string "MTP"), ff/06/xx SCSI-like interfaces and
//              known usb-storage quirk VID:PIDs stay blocked.
//  "still-image" 06 (PTP: cameras, phones) and "mass-storage" 08 are never allowable.
const std::vector<UsbClassName>& usb_class_names();
const UsbClassName* usb_class_by_name(const std::string& name);

// Problems with a usb.allow_classes list: unknown names and names that cannot be allowed by
// class. Each message names the entry ("usb.allow_classes: \"mass-storage\" cannot ...").
std::vector<std::string> check_allow_classes(const std::vector<std::string>& names);

// What a storage-like interface is.
enum class StorageKind { None, Storage, Phone, Network };
const char* to_string(StorageKind k);

struct InterfaceClass {
  std::string name;   // the usb.allow_classes name that covers it ("hid"), or "" when none
  std::string label;  // precise name for people: "mass-storage (SCSI, UAS)", "mtp", "rndis"
  StorageKind storage = StorageKind::None;
  std::string storage_why;  // e.g. "class 08 mass storage", "interface string \"MTP\""
};

// Classifies one interface in the context of its device (CDC data interfaces depend on their
// control interface; quirk storage on the device's VID:PID).
InterfaceClass classify_interface(const UsbDevice& dev, const UsbInterface& itf);

// True for VID:PIDs that usb-storage (or rtsx/ums drivers) bind although their interfaces
// report the vendor-specific class.
bool is_quirk_storage(const std::string& vid, const std::string& pid);
const std::vector<std::pair<std::string, std::string>>& quirk_storage_ids();  // (vid, pid)

// "08/06/50"
std::string class_triple(const UsbInterface& itf);

}  // namespace seatlock
