#include "os/base/netns.hpp"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace seatlock {

void enter_network_namespace(const std::string& name_or_path) {
  std::string path =
      name_or_path.find('/') == std::string::npos ? "/run/netns/" + name_or_path : name_or_path;
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("cannot open network namespace " + path + ": " + std::strerror(errno));
  int rc = setns(fd, CLONE_NEWNET);
  int e = errno;
  close(fd);
  if (rc < 0)
    throw std::runtime_error("cannot enter network namespace " + path + ": " + std::strerror(e));
}

}  // namespace seatlock
