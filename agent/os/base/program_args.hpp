#pragma once
// The command line of seatlock's daemons (seatlockd, seatlock-usbd): --help/-h and --version
// answered the same way, and one way to stop on a usage error.
#include <set>
#include <string>

#include "core/util/args.hpp"

namespace seatlock {

struct ProgramInfo {
  const char* name;   // "seatlockd"
  const char* usage;  // the --help text
};

// argv as an ArgParser over `valued` flags plus --help (-h) and --version, which print their
// answer and exit 0 here. A command line that cannot be parsed exits 2 (exit_usage()).
ArgParser parse_program_args(int argc, char** argv, const ProgramInfo& program,
                             const std::set<std::string>& valued);

// The flags both daemons take for where the seat is (the same names, the same meaning), into
// the options' fields of the same names; absent flags leave the defaults.
inline const std::set<std::string> kSeatPathFlags = {"policy-dir", "state-dir",      "sysfs",
                                                     "dev",        "udev-rules-dir", "seat-id"};
template <class Options>
void take_seat_paths(const ArgParser& args, Options& o) {
  args.take("policy-dir", o.policy_dir);
  args.take("state-dir", o.state_dir);
  args.take("sysfs", o.sysfs_root);
  args.take("dev", o.dev_root);
  args.take("udev-rules-dir", o.udev_rules_dir);
  args.take("seat-id", o.seat_id);
}

// Prints "name: message" and the usage to stderr and exits 2.
[[noreturn]] void exit_usage(const ProgramInfo& program, const std::string& message);

}  // namespace seatlock
