// Placeholder until the net work lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace seatlock::cli {

int cmd_net(const CliContext&, const Args&) {
  std::fprintf(stderr, "seatlockctl: 'net' is not available in this build yet\n");
  return 1;
}

}  // namespace seatlock::cli
