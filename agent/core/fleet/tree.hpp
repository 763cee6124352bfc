#pragma once
// A fleet policy tree as read from the collector host (reading is collector/src/fleet):
//   groups.json            seats -> groups (group_map.hpp)
//   all/*.json             files for every seat
//   groups/<name>/*.json   files for the seats of one group
//   seats/<id>/*.json      files for one seat
// A seat's fleet files are all/, then each of its groups in groups.json order, then seats/<id>/,
// each directory in name order. `plan_fleet` works out every seat's list; `check_fleet` merges
// each list with the seat's validator, as the seat will.
#include <map>
#include <string>
#include <vector>

#include "core/fleet/group_map.hpp"
#include "core/policy/loader.hpp"

namespace seatlock::fleet {

struct FleetTree {
  PolicyFile groups_file;                                 // name "groups.json"
  std::vector<PolicyFile> all;                            // names "all/10-base.json"
  std::map<std::string, std::vector<PolicyFile>> groups;  // dir -> "groups/<dir>/x.json"
  std::map<std::string, std::vector<PolicyFile>> seats;   // dir -> "seats/<dir>/x.json"
};

struct SeatFiles {
  std::string seat;
  std::vector<std::string> groups;  // in merge order
  std::vector<PolicyFile> files;    // the seat's fleet files, in merge order
};

// One problem, found in the merge of one or more seats (identical ones are reported once).
struct FleetDiagnostic {
  PolicyDiagnostic where;
  std::vector<std::string> seats;  // empty: about the tree itself (groups.json, a directory)
  // "all/10-base.json:3:5: /usb/mode: ... (seats cc-01, cc-02 and 3 more)"
  std::string text() const;
};

struct FleetPlan {
  GroupMap map;
  std::vector<SeatFiles> seats;  // sorted by seat id
  std::vector<FleetDiagnostic> errors, warnings;
};

// The seats are the inventory, the explicit group lists and the seats/ directories.
FleetPlan plan_fleet(const FleetTree& tree);

// Validates every seat's merged fleet files (seats with the same file list are merged once) plus
// the fleet-only rules (scope.hpp). Appends to plan.errors / plan.warnings.
void check_fleet(FleetPlan& plan, const PolicyLoadOptions& options);

}  // namespace seatlock::fleet
