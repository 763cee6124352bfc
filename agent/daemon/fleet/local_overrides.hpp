#pragma once
// Is the seat running the policy the fleet published? (`seatlock-collector fleet status`,
// docs/fleet.md.) A seat's local root can always add or edit local files, and those win over the
// fleet on scalars and add to its lists. The seat names where that happened: the JSON pointers
// at which its effective policy differs from the one it would run with the fleet's files alone,
// i.e. the merge of
//   its shipped default (local files named 00-*), the bundle's files, and of its other local
//   files only the keys a fleet file may not set (report.seat_id, report.fleet_keys,
//   report.collector ... : core/fleet/scope.hpp), which every managed seat has.
// policy.applied carries the list as details.fleet.local_overrides while a bundle is in force;
// empty = the seat runs exactly what the fleet published (on top of its shipped default).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/policy/loader.hpp"

namespace seatlock {

// Pointers ("/usb/mode", "/network/exceptions": a list differs as a whole) in order, at most
// kMaxLocalOverrides of them; nullopt when the fleet-only merge does not load (it cannot be
// told).
inline constexpr std::size_t kMaxLocalOverrides = 32;
std::optional<std::vector<std::string>> local_overrides(const nlohmann::json& effective,
                                                        const std::vector<PolicyFile>& local,
                                                        const std::vector<PolicyFile>& fleet_files,
                                                        const PolicyLoadOptions& options);

// The same for the files in `policy_dir` now, as JSON: an array, or null when it cannot be told
// (the directory does not read, the fleet-only merge does not load). Never throws.
nlohmann::json local_overrides_json(const std::string& policy_dir, const nlohmann::json& effective,
                                    const std::vector<PolicyFile>& fleet_files);

}  // namespace seatlock
