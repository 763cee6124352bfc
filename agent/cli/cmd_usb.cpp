// Placeholder until the usb work lands.
#include <cstdio>

#include "cli/commands.hpp"

namespace seatlock::cli {

int cmd_usb(const CliContext&, const Args&) {
  std::fprintf(stderr, "seatlockctl: 'usb' is not available in this build yet\n");
  return 1;
}

}  // namespace seatlock::cli
