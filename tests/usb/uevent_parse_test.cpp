// The kernel uevent parser of os/usb/uevent_monitor: the kernel's wire format and libudev's
// (what umockdev and udevd send), and datagrams that are neither.
#include <catch2/catch.hpp>
#include <cstring>
#include <string>

#include "os/usb/uevent_monitor.hpp"

using namespace seatlock;

namespace {

std::string nul_joined(std::initializer_list<const char*> parts) {
  std::string s;
  for (const char* p : parts) s.append(p, std::strlen(p) + 1);
  return s;
}

// libudev's monitor_netlink_header in front of the properties.
std::string libudev_message(const std::string& properties) {
  std::string m(40, '\0');
  std::memcpy(m.data(), "libudev", 8);
  const std::uint32_t magic = __builtin_bswap32(0xfeedcafe), header = 40, off = 40,
                      len = static_cast<std::uint32_t>(properties.size());
  std::memcpy(m.data() + 8, &magic, 4);
  std::memcpy(m.data() + 12, &header, 4);
  std::memcpy(m.data() + 16, &off, 4);
  std::memcpy(m.data() + 20, &len, 4);
  return m + properties;
}

}  // namespace

TEST_CASE("a kernel-format uevent gives action, subsystem, devtype and names", "[usb][unit]") {
  const std::string m = nul_joined(
      {"add@/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0", "ACTION=add",
       "DEVPATH=/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0", "SUBSYSTEM=usb",
       "DEVTYPE=usb_interface", "PRODUCT=951/1666/110", "INTERFACE=8/6/80", "SEQNUM=4711"});
  auto ev = parse_uevent(m.data(), m.size());
  REQUIRE(ev);
  CHECK(ev->action == "add");
  CHECK(ev->subsystem == "usb");
  CHECK(ev->devtype == "usb_interface");
  CHECK(ev->syspath == "/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2/1-2:1.0");
  CHECK(ev->sysname == "1-2:1.0");
}

TEST_CASE("a libudev-format uevent is read from its properties", "[usb][unit]") {
  const std::string m = libudev_message(nul_joined(
      {"ACTION=remove", "DEVPATH=/devices/pci0000:00/0000:00:1f.2/host0/block/cciss!c0d0",
       "SUBSYSTEM=block", "DEVTYPE=disk", "SEQNUM=12"}));
  auto ev = parse_uevent(m.data(), m.size());
  REQUIRE(ev);
  CHECK(ev->action == "remove");
  CHECK(ev->subsystem == "block");
  CHECK(ev->devtype == "disk");
  CHECK(ev->sysname == "cciss/c0d0");
}

TEST_CASE("datagrams that are not uevents are refused", "[usb][unit]") {
  auto refused = [](const std::string& m) { return !parse_uevent(m.data(), m.size()); };
  CHECK(refused(""));
  CHECK(refused("add@/devices/x"));  // no NUL: not even a header
  CHECK(refused(nul_joined({"hello", "ACTION=add", "DEVPATH=/devices/x", "SUBSYSTEM=usb"})));
  CHECK(refused(nul_joined({"add@/devices/x", "ACTION=add", "SUBSYSTEM=usb"})));  // no DEVPATH
  CHECK(refused(nul_joined({"add@/devices/x", "DEVPATH=/devices/x", "SUBSYSTEM=usb"})));
  std::string bad_magic =
      libudev_message(nul_joined({"ACTION=add", "DEVPATH=/d", "SUBSYSTEM=usb"}));
  bad_magic[8] = 0;
  CHECK(refused(bad_magic));
  std::string past_end = libudev_message(nul_joined({"ACTION=add", "DEVPATH=/d", "SUBSYSTEM=usb"}));
  past_end[20] = static_cast<char>(0xff);  // properties_len beyond the datagram
  CHECK(refused(past_end));
  // The last property may lack its NUL; it is still read, nothing past the end is.
  std::string open_end =
      nul_joined({"add@/devices/x", "ACTION=add", "DEVPATH=/devices/x"}) + "SUBSYSTEM=usb";
  auto ev = parse_uevent(open_end.data(), open_end.size());
  REQUIRE(ev);
  CHECK(ev->subsystem == "usb");
}
