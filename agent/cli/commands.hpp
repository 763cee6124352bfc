#pragma once
// seatlockctl command groups. Each group lives in its own cmd_<group>.cpp and gets the
// arguments after its name ("seatlockctl usb list" -> cmd_usb(ctx, {"list"})).
#include <string>
#include <vector>

#include "core/util/args.hpp"

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

// Every command's flags go through seatlock::ArgParser (the one flag style of seatlockd and
// seatlock-collector): declared flags only, so a misspelt one is a usage error, never ignored.
// The global flags (--socket, --policy-dir, --state-dir, --sysfs, --json) are accepted before
// the command and after it, at every level, as seatlockctl always did.

// One command's own flags and positional arguments, and the context with its global flags.
struct CommandLine {
  CliContext ctx;
  ArgParser args;
};
// Parses the arguments of the command `name` ("net allow"): `spec` plus the global flags.
// Throws UsageError with the message prefixed by `name`.
CommandLine parse_command(const CliContext& ctx, const Args& args, const std::string& name,
                          ArgSpec spec = {});

// A command group's arguments split at its subcommand ("usb --json list --x" -> "list", {"--x"}).
struct Subcommand {
  CliContext ctx;
  std::string name;  // empty when none was given
  Args rest;         // the subcommand's arguments, unparsed
  ArgParser flags;   // the group's own switches given before the subcommand (e.g. --help)
};
// `group` prefixes usage errors (empty: none); `switches` are the group's own.
Subcommand split_subcommand(const CliContext& ctx, const Args& args, const std::string& group,
                            const std::set<std::string>& switches = {"help"});

int usage_error(const std::string& message);  // prints "seatlockctl: <message>" + hint, returns 2

}  // namespace seatlock::cli
