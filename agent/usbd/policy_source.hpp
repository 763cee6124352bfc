#pragma once
// Which policy seatlock-usbd enforces before seatlockd hands it one: the last one seatlockd
// handed (kept in the state directory), else the policy directory through core's loader, else
// seatlockd's own last good policy, else a built-in that only lets hubs and keyboards/mice bind.
// Never "nothing": the enforcer always starts and the seat is always locked (fail closed).
#include <optional>
#include <string>

#include "core/policy/policy.hpp"

namespace seatlock {

struct StartupPolicy {
  Policy policy;
  std::string source;  // "handed", "policy directory", "last good policy", "built-in"
};

StartupPolicy load_startup_policy(const std::string& state_dir, const std::string& policy_dir);

// `effective` (a merged policy document, as seatlockd's Policy::effective), validated; nullopt
// with `error` set when it does not load.
std::optional<Policy> policy_from_document(const std::string& text, std::string& error);

// Keeps what seatlockd handed, atomically, for the next start (<state_dir>/usbd-policy.json).
void save_handed_policy(const std::string& state_dir, const Policy& policy);

std::string handed_policy_path(const std::string& state_dir);

}  // namespace seatlock
