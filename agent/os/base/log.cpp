#include "os/base/log.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace seatlock {
namespace {

bool under_journald() {
  static const bool journal =
      std::getenv("JOURNAL_STREAM") != nullptr || std::getenv("INVOCATION_ID") != nullptr;
  return journal;
}

const char* g_identifier = "seatlockd";

const char* identifier() {
  return g_identifier;
}

// One entry in journald's native protocol (systemd.io/JOURNAL_NATIVE_PROTOCOL): a datagram of
// fields; MESSAGE in the length-prefixed form so it may contain newlines. Spoken directly rather
// than through sd_journal_send so that seatlock-usbd does not map libsystemd (issue 18).
bool journal_send(int priority, const std::string& msg) {
  static const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strcpy(addr.sun_path, "/run/systemd/journal/socket");
  const std::string head = "PRIORITY=" + std::to_string(priority) +
                           "\nSYSLOG_IDENTIFIER=" + identifier() + "\nMESSAGE\n";
  unsigned char len[8];
  const std::uint64_t n = msg.size();
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(n >> (8 * i));  // little endian
  char nl = '\n';
  iovec iov[4] = {{const_cast<char*>(head.data()), head.size()},
                  {len, sizeof len},
                  {const_cast<char*>(msg.data()), msg.size()},
                  {&nl, 1}};
  msghdr mh{};
  mh.msg_name = &addr;
  mh.msg_namelen = sizeof addr;
  mh.msg_iov = iov;
  mh.msg_iovlen = 4;
  return ::sendmsg(fd, &mh, MSG_NOSIGNAL) >= 0;
}

void emit(int priority, const char* tag, const std::string& msg) {
  if (under_journald() && journal_send(priority, msg)) return;
  std::fprintf(stderr, "%s: %s%s\n", identifier(), tag, msg.c_str());
}

}  // namespace

void set_log_identifier(const char* name) {
  g_identifier = name;
}

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
