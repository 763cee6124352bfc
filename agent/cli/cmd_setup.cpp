// Placeholder until the setup work lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace seatlock::cli {

int cmd_setup(const CliContext&, const Args&) {
  std::fprintf(stderr, "seatlockctl: 'setup' is not available in this build yet\n");
  return 1;
}

}  // namespace seatlock::cli
