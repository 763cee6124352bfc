#pragma once
// What the uplink tests look at from outside: seatlockd's seatlock-uplink children in /proc, their
// status lines, and whether a seat's events reached the collector.
#include <sys/types.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "e2e_helpers.hpp"

namespace seatlock::uplink_test {

// The seatlock-uplink processes whose parent is `parent` (none, or one while seatlockd runs).
inline std::set<pid_t> uplinks_of(pid_t parent) {
  std::set<pid_t> found;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream stat(entry.path() / "stat");
    std::string line;
    if (!std::getline(stat, line)) continue;
    // pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
    auto close = line.rfind(')');
    auto open = line.find('(');
    if (close == std::string::npos || open == std::string::npos) continue;
    std::istringstream rest(line.substr(close + 2));
    std::string state;
    pid_t ppid = 0;
    rest >> state >> ppid;
    if (ppid == parent && line.substr(open + 1, close - open - 1) == "seatlock-uplink")
      found.insert(static_cast<pid_t>(std::stoi(name)));
  }
  return found;
}

// The seatlock-uplink process whose parent is `parent`, or 0.
inline pid_t uplink_of(pid_t parent) {
  auto all = uplinks_of(parent);
  return all.empty() ? 0 : *all.begin();
}

inline std::map<std::string, std::string> proc_status(pid_t pid) {
  std::map<std::string, std::string> out;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(" \t"));
    out[line.substr(0, colon)] = value;
  }
  return out;
}

// The seat's own rows in its spool (the collector's loopback rows of other seats aside).
inline std::size_t own_rows(evidence::SeatDaemon& seat) {
  std::size_t own = 0;
  for (auto& e : seat.spool_events())
    if (e["seat"]["id"] == seat.seat_id) ++own;
  return own;
}

// Every row of the seat's own id is delivered and the collector holds exactly those rows.
inline bool own_rows_delivered(evidence::SeatDaemon& seat, const std::string& db,
                               std::size_t at_least) {
  std::size_t own = 0;
  for (auto& e : seat.spool_events()) {
    if (e["seat"]["id"] != seat.seat_id) continue;
    if (e["status"] != "delivered") return false;
    ++own;
  }
  return own >= at_least && evidence::collector_rows(db, seat.seat_id).size() == own;
}

}  // namespace seatlock::uplink_test
