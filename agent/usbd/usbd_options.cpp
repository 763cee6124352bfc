#include "usbd/usbd_options.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "os/base/program_args.hpp"

namespace seatlock {
namespace {

const char* kUsage = R"(usage: seatlock-usbd [options]
The USB lockdown on its own: blocks every USB interface the policy does not allow. Small on
purpose (no network, no database, no crypto library). seatlockd starts it and hands it the policy;
until then it enforces the last policy seatlockd handed it, else the policy directory.
Runs in the foreground (systemd Type=notify).

  --policy-dir DIR       policy files, merged in name order   [/etc/seatlock/policy.d]
  --state-dir DIR        where the policy seatlockd handed is kept [/var/lib/seatlock]
  --socket PATH          the channel seatlockd connects to      [/run/seatlock/usbd.sock]
  --control-socket PATH  the same as --socket (seatlockd's flag name)
  --sysfs DIR            where sysfs is mounted                  [/sys]
  --dev DIR              where device nodes are                  [/dev]
  --udev-rules-dir DIR   where generated udev rules are written  [/run/udev/rules.d]
  --seat-id ID           seat id (overrides report.seat_id; default hostname)
  --event-queue-max N    events kept while seatlockd is away      [1024]
  --components usb       accepted for seatlockd's command line; only "usb" is valid
  --version, --help
)";
const ProgramInfo kProgram{"seatlock-usbd", kUsage};

[[noreturn]] void bad(const std::string& msg) {
  exit_usage(kProgram, msg);
}

}  // namespace

UsbdOptions parse_usbd_options(int argc, char** argv) {
  std::set<std::string> flags = kSeatPathFlags;
  flags.insert({"socket", "control-socket", "components", "event-queue-max"});
  const ArgParser args = parse_program_args(argc, argv, kProgram, flags);
  try {
    UsbdOptions o;
    take_seat_paths(args, o);
    args.take("control-socket", o.socket);
    args.take("socket", o.socket);
    if (auto n = args.number("event-queue-max")) {
      if (*n == 0 || *n > 1'000'000) bad("--event-queue-max takes 1 to 1000000");
      o.event_queue_max = static_cast<std::size_t>(*n);
    }
    if (auto list_text = args.get("components")) {
      std::stringstream list(*list_text);
      for (std::string c; std::getline(list, c, ',');)
        if (c != "usb") bad("only the usb component runs here, got '" + c + "'");
    }
    return o;
  } catch (const UsageError& e) {
    bad(e.what());
  }
}

}  // namespace seatlock
