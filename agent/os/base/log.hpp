#pragma once
// Logging to journald when running under systemd, otherwise to stderr.
#include <string>

namespace seatlock {

void log_info(const std::string& msg);
void log_warning(const std::string& msg);
void log_error(const std::string& msg);

}  // namespace seatlock
