#pragma once
// The event as it crosses the channel between seatlock-usbd and seatlockd: what usbd knows.
// seatlockd's Reporter adds the user, seat and hostname, its sink the seq and prev.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/event/event.hpp"

namespace seatlock {

nlohmann::json event_to_wire(const Event& e);
// nullopt with `error` set when a field is missing or of the wrong type.
std::optional<Event> event_from_wire(const nlohmann::json& j, std::string& error);

}  // namespace seatlock
