#include "os/base/log.hpp"

#include <syslog.h>
#include <systemd/sd-journal.h>

#include <cstdio>
#include <cstdlib>

namespace seatlock {
namespace {

bool under_journald() {
  static const bool journal =
      std::getenv("JOURNAL_STREAM") != nullptr || std::getenv("INVOCATION_ID") != nullptr;
  return journal;
}

void emit(int priority, const char* tag, const std::string& msg) {
  if (under_journald()) {
    sd_journal_send("MESSAGE=%s", msg.c_str(), "PRIORITY=%d", priority,
                    "SYSLOG_IDENTIFIER=seatlockd", nullptr);
  } else {
    std::fprintf(stderr, "seatlockd: %s%s\n", tag, msg.c_str());
  }
}

}  // namespace

void log_info(const std::string& msg) {
  emit(LOG_INFO, "", msg);
}
void log_warning(const std::string& msg) {
  emit(LOG_WARNING, "warning: ", msg);
}
void log_error(const std::string& msg) {
  emit(LOG_ERR, "error: ", msg);
}

}  // namespace seatlock
