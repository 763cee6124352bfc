#pragma once
// seatlock-usbd's configuration. It takes seatlockd's path flags (the same names and meanings), so
// seatlockd can start it with its own and the side-by-side bench can run it in seatlockd's place.
#include <cstddef>
#include <string>

namespace seatlock {

struct UsbdOptions {
  std::string policy_dir = "/etc/seatlock/policy.d";  // read when seatlockd never handed a policy
  std::string state_dir = "/var/lib/seatlock";        // where the handed policy is kept
  std::string socket = "/run/seatlock/usbd.sock";     // the channel seatlockd connects to
  std::string sysfs_root = "/sys";
  std::string dev_root = "/dev";
  std::string udev_rules_dir = "/run/udev/rules.d";
  std::string seat_id;  // overrides report.seat_id
  std::size_t event_queue_max =
      1024;  // events kept while seatlockd is away (then dropped, counted)
};

// Parses argv; on --help prints usage and exits 0; on bad arguments prints why and exits 2.
UsbdOptions parse_usbd_options(int argc, char** argv);

}  // namespace seatlock
