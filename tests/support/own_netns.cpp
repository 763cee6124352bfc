#include "support/own_netns.hpp"

#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace seatlock::testing {

void enter_own_network_namespace() {
  if (unshare(CLONE_NEWNET) != 0)
    throw std::runtime_error(std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno) +
                             " (this test runs in its own network namespace: run as root)");
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  bool up = fd >= 0 && ioctl(fd, SIOCGIFFLAGS, &ifr) == 0 &&
            (ifr.ifr_flags |= IFF_UP, ioctl(fd, SIOCSIFFLAGS, &ifr) == 0);
  int err = errno;
  if (fd >= 0) close(fd);
  if (!up) throw std::runtime_error(std::string("bringing lo up: ") + std::strerror(err));
}

}  // namespace seatlock::testing
