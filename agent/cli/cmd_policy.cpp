// Placeholder until the policy work lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace seatlock::cli {

int cmd_policy(const CliContext&, const Args&) {
  std::fprintf(stderr, "seatlockctl: 'policy' is not available in this build yet\n");
  return 1;
}

}  // namespace seatlock::cli
