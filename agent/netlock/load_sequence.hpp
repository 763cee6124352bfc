#pragma once
// What seatlock-netlock does at boot, in order, so that a seat never comes up without a
// fail-closed egress table:
//   1. the cached fallback file (<state_dir>/netlock.nft), recompiled at `now` from the rules it
//      embeds (or loaded as written when it has no rules header);
//   2. when there is no usable file (first boot, a corrupt or rejected file): the policy
//      directory, through `seatlockctl net load-fallback` (which also writes the file);
//   3. when that fails too: the lockdown table, loopback only, until seatlockd applies a policy.
#include <string>

#include "core/util/time.hpp"

namespace seatlock::netlock {

struct LoadPaths {
  std::string state_dir = "/var/lib/seatlock";
  std::string policy_dir = "/etc/seatlock/policy.d";
  std::string seatlockctl = "/usr/sbin/seatlockctl";
};

struct LoadOutcome {
  bool policy_loaded = false;  // step 1 or 2 succeeded; false: the lockdown table is in force
  std::string summary;         // one line for the journal
};

// Throws std::runtime_error only when not even the lockdown table could be loaded.
LoadOutcome load_at_boot(const LoadPaths& paths, UnixMillis now);

// The loopback-only table (replaces any seatlock_fallback table in one transaction).
std::string lockdown_transaction();

}  // namespace seatlock::netlock
