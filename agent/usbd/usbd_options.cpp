#include "usbd/usbd_options.hpp"

#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <vector>

#include "core/util/args.hpp"
#include "seatlock/version.hpp"

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

[[noreturn]] void bad(const std::string& msg) {
  std::fprintf(stderr, "seatlock-usbd: %s\n%s", msg.c_str(), kUsage);
  std::exit(2);
}

}  // namespace

UsbdOptions parse_usbd_options(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  for (auto& w : words)
    if (w == "-h") w = "--help";
  try {
    const ArgParser args(words,
                         {"policy-dir", "state-dir", "socket", "control-socket", "sysfs", "dev",
                          "udev-rules-dir", "seat-id", "components", "event-queue-max"},
                         {"help", "version"});
    if (args.has("help")) {
      std::fputs(kUsage, stdout);
      std::exit(0);
    }
    if (args.has("version")) {
      std::printf("seatlock-usbd %s\n", kVersion);
      std::exit(0);
    }
    UsbdOptions o;
    auto take = [&](const char* name, std::string& into) {
      if (auto v = args.get(name)) into = *v;
    };
    take("policy-dir", o.policy_dir);
    take("state-dir", o.state_dir);
    take("control-socket", o.socket);
    take("socket", o.socket);
    take("sysfs", o.sysfs_root);
    take("dev", o.dev_root);
    take("udev-rules-dir", o.udev_rules_dir);
    take("seat-id", o.seat_id);
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
