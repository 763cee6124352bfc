#pragma once
#include "commands.hpp"

namespace seatlock::collector {
// attest show | attest baseline (attest/cmd_attest.cpp)
int cmd_attest(const ArgList& args, std::ostream& out);
}  // namespace seatlock::collector
