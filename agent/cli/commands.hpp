#pragma once
// seatlockctl command groups. Each group lives in its own cmd_<group>.cpp and gets the
// arguments after its name ("seatlockctl usb list" -> cmd_usb(ctx, {"list"})).
#include <string>
#include <vector>

namespace seatlock::cli {

struct CliContext {
  std::string socket_path = "/run/seatlock/control.sock";
  std::string policy_dir = "/etc/seatlock/policy.d";
  std::string state_dir = "/var/lib/seatlock";
  std::string sysfs_root = "/sys";
  bool json = false;  // --json: machine-readable output where the command supports it
};

using Args = std::vector<std::string>;

// Returns the process exit code: 0 ok, 1 a check failed / daemon said no, 2 usage error.
int cmd_status(const CliContext& ctx, const Args& args);
int cmd_reload(const CliContext& ctx, const Args& args);
int cmd_policy(const CliContext& ctx, const Args& args);
int cmd_usb(const CliContext& ctx, const Args& args);
int cmd_net(const CliContext& ctx, const Args& args);
int cmd_firmware(const CliContext& ctx, const Args& args);
int cmd_events(const CliContext& ctx, const Args& args);
int cmd_setup(const CliContext& ctx, const Args& args);

// Small helpers shared by the groups.
// Removes "--name value" / "--name=value" from args; returns the value or std::nullopt.
bool take_flag(Args& args, const std::string& name);
std::string take_option(Args& args, const std::string& name, const std::string& fallback = "");
int usage_error(const std::string& message);  // prints "seatlockctl: <message>" + hint, returns 2

}  // namespace seatlock::cli
