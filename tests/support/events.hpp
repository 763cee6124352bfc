#pragma once
// Test support: the events a seatlockd recorded in its state directory, oldest first.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace seatlock::test {

// Reads the seat's local evidence through `seatlockctl events --json` (or the interim
// events.jsonl when present).
std::vector<nlohmann::json> all_events(const std::string& state_dir);
std::vector<nlohmann::json> events_of_kind(const std::string& state_dir, const std::string& kind);

}  // namespace seatlock::test
