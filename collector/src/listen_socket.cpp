#include "listen_socket.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace seatlock::collector {

// Resolves HOST:PORT (names, [v6]) and listens; `bound` gets the numeric address:port.
// `flag` names the option in errors ("--listen", "--console-listen").
int open_listener(const std::string& flag, const std::string& listen, std::string& bound) {
  auto colon = listen.rfind(':');
  if (colon == std::string::npos)
    throw std::runtime_error(flag + ": expected HOST:PORT, got \"" + listen + "\"");
  std::string host = listen.substr(0, colon), port = listen.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  if (int rc = getaddrinfo(host.empty() ? nullptr : host.c_str(), port.c_str(), &hints, &res);
      rc != 0)
    throw std::runtime_error(flag + " " + listen + ": " + gai_strerror(rc));
  int fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  // Connections wait here while the accept loop is paused (conn_registry.hpp): ask for a deep
  // backlog; the kernel caps it at net.core.somaxconn (4096 by default since Linux 5.4).
  if (fd < 0 || bind(fd, res->ai_addr, res->ai_addrlen) != 0 || ::listen(fd, 65535) != 0) {
    std::string err = std::strerror(errno);
    freeaddrinfo(res);
    if (fd >= 0) close(fd);
    throw std::runtime_error(flag + " " + listen + ": " + err);
  }
  freeaddrinfo(res);
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
  char name[NI_MAXHOST], serv[NI_MAXSERV];
  getnameinfo(reinterpret_cast<sockaddr*>(&ss), len, name, sizeof name, serv, sizeof serv,
              NI_NUMERICHOST | NI_NUMERICSERV);
  bound =
      (ss.ss_family == AF_INET6 ? "[" + std::string(name) + "]" : std::string(name)) + ":" + serv;
  return fd;
}

// The client closed (or reset) the connection while it waited in the listen backlog: in a
// storm its connect timeout (the agent's is 10 s) ran out there. A handshake with it would be
// work for nobody, and handshakes with dead connections are what a long backlog fills with.
bool peer_gave_up(int fd) {
  pollfd p{fd, POLLRDHUP, 0};
  return ::poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

// Every connection needs a descriptor: use the hard limit, not the (often 1024) soft one.
void raise_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace seatlock::collector
