#include "central_scope.hpp"

namespace seatlock::collector::fleet_cli {

Scope resolve_scope(const ArgParser& a, const CentralAction& act, bool allow_all) {
  int given = a.get("seat").has_value() + a.get("group").has_value() + (allow_all && a.has("all"));
  if (given != 1)
    throw UsageError(allow_all ? "give exactly one of --seat ID, --group NAME or --all"
                               : "give exactly one of --seat ID or --group NAME");
  Scope s;
  if (auto seat = a.get("seat")) {
    if (!act.is_seat(*seat))
      throw std::runtime_error("seat \"" + *seat + "\" is not in the fleet tree " +
                               act.setup().tree +
                               " (not in groups.json's inventory or a group's seats list, and no "
                               "seats/" +
                               *seat + "/ directory)");
    s = {"seat", *seat, "seats/" + *seat, {*seat}};
  } else if (auto group = a.get("group")) {
    if (!act.is_group(*group))
      throw std::runtime_error("no group \"" + *group + "\" in " + act.setup().tree +
                               "/groups.json");
    s = {"group", *group, "groups/" + *group, act.seats_of_group(*group)};
  } else {
    s = {"all", "", "all", act.all_seats()};
  }
  return s;
}

}  // namespace seatlock::collector::fleet_cli
