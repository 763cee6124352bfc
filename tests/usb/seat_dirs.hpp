#pragma once
// The directories of a seat whose daemons a test runs as processes: a fresh temp dir with the
// shipped default policy in policy.d and an empty state dir (the rules dir is the daemon's).
#include <filesystem>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace seatlock::test {

struct SeatDirs {
  explicit SeatDirs(const std::string& tag) : dir(make_temp_dir(tag)) {
    std::filesystem::create_directories(policy_dir);
    std::filesystem::create_directories(state_dir);
    std::filesystem::copy_file(std::string(SEATLOCK_SOURCE_DIR) + "/policy/default/00-default.json",
                               policy_dir + "/00-default.json");
  }
  // seatlock-usbd for this seat, listening on `socket`, over the testbed at `sys_root`.
  std::vector<std::string> usbd_command(const std::string& socket,
                                        const std::string& sys_root) const {
    return {binary_path("agent/daemon/seatlock-usbd"),
            "--policy-dir",
            policy_dir,
            "--state-dir",
            state_dir,
            "--socket",
            socket,
            "--sysfs",
            sys_root,
            "--dev",
            dir + "/dev",
            "--udev-rules-dir",
            rules_dir};
  }
  std::string dir;
  std::string policy_dir = dir + "/policy.d";
  std::string state_dir = dir + "/state";
  std::string rules_dir = dir + "/rules.d";
};

}  // namespace seatlock::test
