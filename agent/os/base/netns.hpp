#pragma once
#include <string>

namespace seatlock {

// Moves the calling process into a network namespace given by name (/run/netns/NAME) or path.
// Throws std::runtime_error on failure. Call before any thread or socket is created.
void enter_network_namespace(const std::string& name_or_path);

}  // namespace seatlock
