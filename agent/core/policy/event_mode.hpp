#pragma once
// The event `mode` of a policy section's mode (core/event cannot see core/policy's Mode).
#include "core/event/kinds.hpp"
#include "core/policy/policy.hpp"

namespace seatlock {

inline EventMode event_mode(Mode m) {
  return m == Mode::Enforce ? EventMode::Enforce : EventMode::Audit;
}

}  // namespace seatlock
