#pragma once
// What a fleet file may not say. The seat's identity, the keys it trusts for bundles and the
// way it reaches its collector are set at install in local files only: a fleet bundle that could
// change them could cut the seat off from the collector (unrecoverable centrally) or hand its
// trust to another key. Such a key in a fleet file is an error at `fleet check` and a reason for
// the seat to refuse the whole bundle.
#include <string>
#include <vector>

#include "core/policy/loader.hpp"

namespace seatlock::fleet {

// JSON pointers reserved to local files ("/report/seat_id", "/report/fleet_keys", ...).
const std::vector<std::string>& local_only_pointers();

// Appends an error for every reserved key `file` sets (at its line and column). A file that is
// not valid JSON is left to the policy validator.
void check_fleet_scope(const PolicyFile& file, std::vector<PolicyDiagnostic>& errors);

}  // namespace seatlock::fleet
