#pragma once
// `fleet diff`: which seats a change of the tree affects and how each one's effective fleet
// policy (its fleet files merged over the built-in defaults) changes.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seatlock::fleet {

struct SeatChange {
  std::string seat;
  std::string kind;  // "added" (new seat), "removed" (no longer in the tree), "changed"
  std::vector<std::string> lines;  // "~ /network/mode: \"enforce\" -> \"audit\"", "+ ...", "- ..."
};

// Seat -> effective document, before (published) and after (the tree). Seats whose document is
// the same are left out; the result is sorted by seat id.
std::vector<SeatChange> diff_fleet(const std::map<std::string, nlohmann::json>& before,
                                   const std::map<std::string, nlohmann::json>& after);

}  // namespace seatlock::fleet
