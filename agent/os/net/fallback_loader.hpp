#pragma once
// `seatlockctl net load-fallback` (run by the boot oneshot before network-pre.target) and
// `seatlockctl net compile`: put the fail-closed table in place without seatlockd.
#include <string>

#include "core/util/time.hpp"

namespace seatlock::net {

struct FallbackLoad {
  std::string source;  // "state file (recompiled)", "state file (as written)", "policy directory"
  std::size_t base_elements = 0;
  std::size_t exception_elements = 0;
  bool closed = false;
  std::string mode;
};

// Loads <state_dir>/netlock.nft when present (recompiled from its embedded rules at `now`, so
// exceptions end at their real `until`), else (no file, or one nft refuses) compiles the policy
// directory and writes the file.
// Throws std::runtime_error when neither works (the caller exits non-zero; the unit fails).
FallbackLoad load_fallback(const std::string& state_dir, const std::string& policy_dir,
                           UnixMillis now);

// The transaction seatlockd would apply for the policy directory now (both tables), or only
// the fallback table. Throws std::runtime_error with the policy errors.
std::string compile_policy_dir(const std::string& state_dir, const std::string& policy_dir,
                               UnixMillis now, bool fallback_only);

}  // namespace seatlock::net
