#pragma once
// Turns policy files (already read into memory) into one validated, merged Policy.
// Files merge in name order: objects merge key by key (later files win), lists of exceptions
// and allow entries accumulate (policy/README.md). Nothing is applied unless everything is valid.
#include <optional>
#include <string>
#include <vector>

#include "core/policy/policy.hpp"

namespace seatlock {

struct PolicyFile {
  std::string name;  // as shown in messages, e.g. "policy.d/50-site.json"
  std::string text;
};

struct PolicyDiagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when the problem is not tied to a place (e.g. a merge conflict)
  int column = 0;  // 1-based
  std::string pointer;  // JSON pointer into that file ("/usb/exceptions/0/until")
  std::string message;  // what was expected and what was found
  // "policy.d/50-site.json:14:9: /usb/exceptions/0/until: expected an RFC 3339 time with offset,
  // got \"tomorrow\""
  std::string text() const;
};

struct PolicyLoadOptions {
  UnixMillis now = 0;
  // true (seatlockctl policy check): an exception whose `until` has passed is an error.
  // false (seatlockd): it is a warning and the exception is left out of the policy, so a stale
  // file never blocks the rest of a reload.
  bool expired_is_error = true;
};

struct PolicyLoadResult {
  std::optional<Policy> policy;  // set only when errors is empty
  std::vector<PolicyDiagnostic> errors;
  std::vector<PolicyDiagnostic> warnings;
};

PolicyLoadResult load_policy(const std::vector<PolicyFile>& files,
                             const PolicyLoadOptions& options);

}  // namespace seatlock
