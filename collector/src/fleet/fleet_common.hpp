#pragma once
// Shared steps of the `fleet` subcommands: read and check a tree, print what was found, and the
// effective fleet policy of each seat (for diff).
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>
#include <vector>

#include "core/fleet/tree.hpp"

namespace seatlock::collector::fleet_cli {

// Reads `dir`, plans and checks every seat's merge as of `now` (an expired exception is an
// error: the tree must be cleaned before it is published). Prints every error and warning to
// `out`, one per line.
seatlock::fleet::FleetPlan check_tree(const std::string& dir, UnixMillis now, std::ostream& out);
// The same check on a tree already in memory (a central action's would-be tree).
seatlock::fleet::FleetPlan check_fleet_tree(const seatlock::fleet::FleetTree& tree, UnixMillis now,
                                            std::ostream& out);

// Seat -> its effective fleet document (fleet files over the built-in defaults). Seats whose
// files do not load are left out.
std::map<std::string, nlohmann::json> effective_by_seat(
    const std::map<std::string, std::vector<PolicyFile>>& files_by_seat, UnixMillis now);

}  // namespace seatlock::collector::fleet_cli
