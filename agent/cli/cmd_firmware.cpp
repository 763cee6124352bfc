// Placeholder until the firmware work lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace seatlock::cli {

int cmd_firmware(const CliContext&, const Args&) {
  std::fprintf(stderr, "seatlockctl: 'firmware' is not available in this build yet\n");
  return 1;
}

}  // namespace seatlock::cli
