#pragma once
// seatlockd's configuration: every root path and the netns come from here, so tests never
// touch the host (see README "Testing").
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/policy/policy.hpp"

namespace seatlock {

struct DaemonOptions {
  std::string policy_dir = "/etc/seatlock/policy.d";
  std::string state_dir = "/var/lib/seatlock";
  std::string control_socket = "/run/seatlock/control.sock";
  std::string sysfs_root = "/sys";  // where sys/ lives (fake trees in tests)
  std::string dev_root = "/dev";
  std::string lease_root = "/";  // where var/lib/dhcp etc. live (DHCP servers; fake trees in tests)
  std::string udev_rules_dir = "/run/udev/rules.d";  // where generated udev rules go
  std::string usbd_socket;  // seatlock-usbd's channel; "" = usbd.sock next to control_socket
  std::string netns;        // name in /run/netns or a path; "" = current
  std::optional<Mode> network_mode_override;  // --network-mode audit|enforce
  std::set<std::string> components = {"usb", "network", "firmware", "delivery"};
  std::string seat_id;    // overrides report.seat_id
  uid_t control_uid = 0;  // who may use the control socket (tests: their own uid)

  bool enabled(const std::string& c) const { return components.count(c) != 0; }
};

// Parses argv; on --help prints usage and exits 0; on bad arguments prints why and exits 2.
DaemonOptions parse_daemon_options(int argc, char** argv);

}  // namespace seatlock
