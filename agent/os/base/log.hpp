#pragma once
// Logging to journald when running under systemd, otherwise to stderr.
#include <string>

namespace seatlock {

// The program name in every line and the journal's SYSLOG_IDENTIFIER ("seatlockd" unless set);
// `name` must outlive the program (a string literal).
void set_log_identifier(const char* name);

void log_info(const std::string& msg);
void log_warning(const std::string& msg);
void log_error(const std::string& msg);

}  // namespace seatlock
