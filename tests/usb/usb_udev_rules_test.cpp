// The generated udev rules, and the shipped file for the default policy.
#include "core/usb/usb_udev_rules.hpp"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "core/policy/loader.hpp"

using namespace seatlock;

namespace {
std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}
bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}
}  // namespace

TEST_CASE("rules lock root hubs and authorize exactly the allowed classes", "[usb][udev]") {
  UsbPolicy p;
  p.allow_classes = {"audio", "hid", "hub"};
  const std::string r = generate_usb_udev_rules(p);
  CHECK(has_line(r,
                 "ENV{DEVTYPE}==\"usb_device\", KERNEL==\"usb[0-9]*\", "
                 "ATTR{interface_authorized_default}=\"0\""));
  // usbcore.authorized_default=0 holds back whole devices: they are admitted only on a bus that
  // is already locked, and only after the root hub line (so no interface can bind on the way).
  const std::string admit =
      "ENV{DEVTYPE}==\"usb_device\", KERNEL!=\"usb[0-9]*\", ATTR{authorized}==\"0\", "
      "ATTRS{interface_authorized_default}==\"0\", ATTR{authorized}=\"1\"";
  CHECK(has_line(r, admit));
  CHECK(r.find("ATTR{interface_authorized_default}=\"0\"") < r.find(admit));
  CHECK(r.find(admit) < r.find("ENV{DEVTYPE}!=\"usb_interface\""));
  CHECK(has_line(r, "# hid\nATTR{bInterfaceClass}==\"03\", GOTO=\"seatlock_usb_authorize\""));
  CHECK(has_line(r, "# audio\nATTR{bInterfaceClass}==\"01\", GOTO=\"seatlock_usb_authorize\""));
  CHECK(r.find("# video") == std::string::npos);
  CHECK(has_line(r, "ATTR{bInterfaceClass}==\"08\", GOTO=\"seatlock_usb_end\""));
  // order of allow_classes does not change the text
  UsbPolicy q = p;
  q.allow_classes = {"hub", "hid", "audio"};
  CHECK(generate_usb_udev_rules(q) == r);
  // storage-like exits come before any authorize line
  CHECK(r.find("\"08\", GOTO=\"seatlock_usb_end\"") < r.find("GOTO=\"seatlock_usb_authorize\""));
  // udev allows comments only on their own lines
  std::istringstream lines(r);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') CHECK(line.find('#') == std::string::npos);
}

TEST_CASE("read-only exceptions make the block device read-only inside udev", "[usb][udev]") {
  UsbPolicy p;
  UsbException e;
  e.vid = "0951";
  e.pid = "1666";
  e.serial = "E0D55EA573DCF450E97B0C5A";
  e.ticket = "IT-9";
  e.read_only = true;
  e.until = 1;
  p.exceptions = {e};
  const std::string r = generate_usb_udev_rules(p);
  CHECK(r.find("ENV{ID_VENDOR_ID}==\"0951\", ENV{ID_MODEL_ID}==\"1666\", "
               "ENV{ID_SERIAL_SHORT}==\"E0D55EA573DCF450E97B0C5A\", ENV{UDISKS_AUTO}=\"0\", "
               "RUN+=\"/usr/sbin/blockdev --setro $devnode\"") != std::string::npos);
  // exceptions never authorize anything in udev (they expire; only seatlockd can tell)
  CHECK(r.find("0951\", ATTR{authorized}") == std::string::npos);
}

TEST_CASE("shipped udev/70-seatlock-usb.rules equals the rules for the default policy",
          "[usb][udev]") {
  const std::string dir = SEATLOCK_SOURCE_DIR;
  const std::string text = slurp(dir + "/policy/default/00-default.json");
  REQUIRE_FALSE(text.empty());
  PolicyLoadOptions o;
  o.now = 1'795'000'000'000;
  auto res = load_policy({{"policy.d/00-default.json", text}}, o);
  REQUIRE(res.errors.empty());
  REQUIRE(res.policy);
  const std::string shipped = slurp(dir + "/udev/70-seatlock-usb.rules");
  INFO(
      "regenerate: seatlockctl --policy-dir policy/default usb rules > udev/70-seatlock-usb.rules");
  CHECK(shipped == generate_usb_udev_rules(res.policy->usb));
}
