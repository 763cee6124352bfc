#pragma once
// groups.json of a fleet tree: which seats belong to which groups (docs/fleet.md).
//   {"seats": ["cc-0001", ...],                       // optional inventory of seat ids
//    "groups": [{"name": "site-paris", "match": ["par-*"]},
//               {"name": "floor-2", "seats": ["par-0201", "par-0202"]}]}
// A seat is in a group when one of its `match` globs (`*`, `?`) or its `seats` list names it.
// The order of "groups" is the merge order: a seat merges its groups' files in that order, so
// broad groups (site) come first and narrow ones (team) later and win on scalars.
#include <string>
#include <string_view>
#include <vector>

#include "core/policy/loader.hpp"

namespace seatlock::fleet {

struct FleetGroup {
  std::string name;
  std::vector<std::string> match;  // seat-id globs
  std::vector<std::string> seats;  // explicit seat ids
};

struct GroupMap {
  std::vector<std::string> inventory;  // "seats": ids listed without a group
  std::vector<FleetGroup> groups;      // in merge order
};

// Parses and validates groups.json; problems go to `errors` as file:line:column: pointer.
GroupMap parse_group_map(const PolicyFile& file, std::vector<PolicyDiagnostic>& errors);

// `*` any run of characters, `?` one character; everything else literally.
bool seat_glob_match(std::string_view pattern, std::string_view seat);

// Names of the groups `seat` belongs to, in merge order.
std::vector<std::string> groups_of(const GroupMap& map, const std::string& seat);

// Group names are directory names under groups/: same syntax as a seat id.
std::string check_group_name(const std::string& name);

}  // namespace seatlock::fleet
