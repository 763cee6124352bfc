#pragma once
// Reads policy files from disk for core's loader (which only sees names and text).
#include <string>
#include <vector>

#include "core/policy/loader.hpp"

namespace seatlock {

// Every *.json directly in `dir` (hidden files skipped), in name order, named
// "<dir's last component>/<file>" (e.g. "policy.d/50-site.json"). Throws std::runtime_error
// when the directory or one of its files cannot be read.
std::vector<PolicyFile> read_policy_dir(const std::string& dir);

// Files and directories as given on a command line (directories expand as above; files keep
// the path as given as their name). The result is in merge order: by file name (the part after
// the last '/'), as if all of them were in one policy.d; equal names keep the order given.
std::vector<PolicyFile> read_policy_paths(const std::vector<std::string>& paths);

}  // namespace seatlock
