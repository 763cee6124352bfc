#pragma once
// Reads a fleet policy tree from disk into core's FleetTree (layout: core/fleet/tree.hpp,
// docs/fleet.md). Only *.json files that are not hidden count, as in a seat's policy.d.
#include <string>

#include "core/fleet/tree.hpp"

namespace seatlock::collector::fleet_cli {

// Throws std::runtime_error when the tree or one of its files cannot be read, or when it holds
// something that is not part of the layout (a typo such as "group/" would otherwise be ignored).
seatlock::fleet::FleetTree read_fleet_tree(const std::string& dir);

}  // namespace seatlock::collector::fleet_cli
