// Placeholder until the events work lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace seatlock::cli {

int cmd_events(const CliContext&, const Args&) {
  std::fprintf(stderr, "seatlockctl: 'events' is not available in this build yet\n");
  return 1;
}

}  // namespace seatlock::cli
