#pragma once
// Which part of the fleet a central action is about: --seat ID, --group NAME or --all (exactly
// one), resolved against the tree's groups.json and seats.
#include <string>
#include <vector>

#include "central_action.hpp"
#include "core/util/args.hpp"

namespace seatlock::collector::fleet_cli {

struct Scope {
  std::string kind;  // "seat", "group", "all"
  std::string name;  // seat id or group name ("" for all)
  std::string dir;   // "seats/<id>", "groups/<name>", "all"
  std::vector<std::string> seats;
  std::string describe() const { return kind == "all" ? "all seats" : kind + " " + name; }
};

// allow_all: --all is accepted. Throws UsageError for a bad combination, std::runtime_error
// naming what exists for a seat or group the tree does not know.
Scope resolve_scope(const ArgParser& a, const CentralAction& act, bool allow_all);

}  // namespace seatlock::collector::fleet_cli
