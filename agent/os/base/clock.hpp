#pragma once
// The clocks the agent reads, in one place (tests and producers agree on what "now" means).
#include <cstdint>

#include "core/util/time.hpp"

namespace seatlock {

// Wall-clock time (CLOCK_REALTIME) in Unix milliseconds: event times, exception `until`s.
UnixMillis now_millis();
// Monotonic milliseconds (CLOCK_MONOTONIC, steady_clock): intervals and back-off deadlines that
// must not jump with the wall clock.
std::int64_t monotonic_millis();

}  // namespace seatlock
