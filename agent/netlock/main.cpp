// seatlock-netlock: loads the fail-closed egress table at boot (seatlock-netlock.service,
// before network-pre.target). A separate binary from seatlockctl so that boot reads two
// libraries (libnftables, libstdc++) instead of all of the CLI's; see load_sequence.hpp for the
// order it tries things in.
//
//   seatlock-netlock [--state-dir DIR] [--policy-dir DIR] [--seatlockctl PATH]
//
// Exit status: 0 when a policy's table is in force, 1 when only the lockdown table could be
// loaded (the unit shows failed, the seat stays closed), 2 on a usage error, 3 when no table
// could be loaded at all.
#include <cstdio>
#include <cstring>
#include <string>

#include "netlock/load_sequence.hpp"
#include "os/base/clock.hpp"

using namespace seatlock;

int main(int argc, char** argv) {
  const char* usage =
      "usage: seatlock-netlock [--state-dir DIR] [--policy-dir DIR] [--seatlockctl PATH]\n";
  netlock::LoadPaths paths;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      return 0;
    }
    std::string* target = arg == "--state-dir"     ? &paths.state_dir
                          : arg == "--policy-dir"  ? &paths.policy_dir
                          : arg == "--seatlockctl" ? &paths.seatlockctl
                                                   : nullptr;
    if (!target || i + 1 >= argc) {
      std::fprintf(stderr, "seatlock-netlock: %s '%s'\n%s",
                   target ? "missing value for" : "unknown argument", arg.c_str(), usage);
      return 2;
    }
    *target = argv[++i];
  }
  try {
    netlock::LoadOutcome r = netlock::load_at_boot(paths, now_millis());
    std::printf("%s\n", r.summary.c_str());
    return r.policy_loaded ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "seatlock-netlock: no egress table loaded: %s\n", e.what());
    return 3;
  }
}
