#include "os/tpm/event_log.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace seatlock::tpm {

// securityfs files report size 0, so this reads until EOF instead of trusting stat().
EventLogRead read_event_log(const std::string& path) {
  EventLogRead r;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    r.problem = errno == ENOENT ? "no event log at " + path + " (firmware without measured boot?)"
                                : "cannot open " + path + ": " + std::strerror(errno);
    return r;
  }
  std::string bytes;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n > 0) {
      bytes.append(buf, static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) r.problem = "cannot read " + path + ": " + std::strerror(errno);
    break;
  }
  ::close(fd);
  if (r.problem.empty()) r.bytes = std::move(bytes);
  return r;
}

}  // namespace seatlock::tpm
