// USB: the kernel uevent datagrams seatlockd reads from its netlink socket (agent/os/usb:
// parse_uevent), in both forms it accepts: the kernel's "action@devpath\0KEY=VALUE\0..." and
// libudev's "libudev\0"-headed one (offsets inside the header come from the datagram). The
// socket only takes datagrams from the kernel, but a device controls names that end up in
// DEVPATH, and a parser fed by a socket must never read outside the datagram.
// Invariants: a parsed event has an action, a subsystem and a syspath "/sys/...", its sysname
// is the syspath's last part with no '!' left; writing the event back in the kernel's form and
// parsing that gives the same event.
#include <cstdint>
#include <string>

#include "fuzz_support.hpp"
#include "os/usb/uevent_monitor.hpp"

namespace {

std::string kernel_form(const seatlock::Uevent& ev) {
  const std::string devpath = ev.syspath.substr(4);  // without "/sys"
  std::string out = ev.action + "@" + devpath;
  out.push_back('\0');
  for (const auto& [key, value] : {std::pair<const char*, const std::string&>{"ACTION", ev.action},
                                   {"DEVPATH", devpath},
                                   {"SUBSYSTEM", ev.subsystem},
                                   {"DEVTYPE", ev.devtype}}) {
    out += std::string(key) + "=" + value;
    out.push_back('\0');
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes, so that ASan sees any read past the datagram.
  const std::string datagram(reinterpret_cast<const char*>(data), size);
  auto ev = seatlock::parse_uevent(datagram.data(), datagram.size());
  if (!ev) return 0;
  FUZZ_CHECK(!ev->action.empty() && !ev->subsystem.empty(), "event without action or subsystem");
  FUZZ_CHECK(ev->syspath.rfind("/sys/", 0) == 0, "syspath outside /sys: " + ev->syspath);
  FUZZ_CHECK(ev->sysname.find('!') == std::string::npos, "sysname keeps a '!': " + ev->sysname);
  std::string last = ev->syspath.substr(ev->syspath.rfind('/') + 1);
  for (auto& c : last)
    if (c == '!') c = '/';
  FUZZ_CHECK(ev->sysname == last, "sysname " + ev->sysname + " is not the syspath's last part");

  const std::string again_text = kernel_form(*ev);
  auto again = seatlock::parse_uevent(again_text.data(), again_text.size());
  FUZZ_CHECK(again.has_value(), "the event written back in the kernel's form does not parse");
  FUZZ_CHECK(again->action == ev->action && again->subsystem == ev->subsystem &&
                 again->devtype == ev->devtype && again->syspath == ev->syspath &&
                 again->sysname == ev->sysname,
             "the event written back parses differently: " + again->syspath);
  return 0;
}
