// sl_net_probe: the traffic the network tests and benchmarks need, with no external tools.
//   serve ADDR PORT...               TCP and UDP echo on each port (until killed)
//   tcp HOST PORT [TIMEOUT_MS]       connect, send a line, expect it back: exit 0 / 1
//   udp HOST PORT [TIMEOUT_MS]       send a datagram, expect it back: exit 0 / 1
//   hold HOST PORT INTERVAL_MS COUNT one connection, a round trip every INTERVAL_MS; prints
//                                    "ok N" lines, exits 1 at the first failed round trip
//   flood HOST PORT N                N UDP datagrams as fast as possible (errors ignored)
//   rate HOST PORT MS                TCP connect+close loop for MS; prints connections/s
// Options before the command: --src ADDR binds the client's source address, --sport PORT its
// source port (e.g. 68 for a DHCP client). UDP clients may send to broadcast addresses.
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

std::string g_src;
int g_sport = 0;

bool resolve(const std::string& host, int port, sockaddr_storage& ss, socklen_t& len) {
  addrinfo hints{}, *res = nullptr;
  hints.ai_flags = AI_NUMERICHOST;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &res) != 0) return false;
  std::memcpy(&ss, res->ai_addr, res->ai_addrlen);
  len = res->ai_addrlen;
  freeaddrinfo(res);
  return true;
}

int client_socket(int type, const sockaddr_storage& to) {
  int fd = socket(to.ss_family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  if ((type & 0xf) == SOCK_DGRAM) setsockopt(fd, SOL_SOCKET, SO_BROADCAST, &one, sizeof one);
  if (!g_src.empty() || g_sport != 0) {
    sockaddr_storage src{};
    socklen_t len = 0;
    const std::string any = to.ss_family == AF_INET6 ? "::" : "0.0.0.0";
    if (!resolve(g_src.empty() ? any : g_src, g_sport, src, len) ||
        bind(fd, reinterpret_cast<sockaddr*>(&src), len) != 0) {
      std::perror("bind --src");
      close(fd);
      return -1;
    }
  }
  return fd;
}

bool wait_fd(int fd, short events, int timeout_ms) {
  pollfd p{fd, events, 0};
  return poll(&p, 1, timeout_ms) == 1 && (p.revents & events);
}

int tcp_connect(const std::string& host, int port, int timeout_ms) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!resolve(host, port, ss, len)) return -1;
  int fd = client_socket(SOCK_STREAM | SOCK_NONBLOCK, ss);
  if (fd < 0) return -1;
  if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
    close(fd);
    return -1;
  }
  int err = 0;
  socklen_t el = sizeof err;
  if (!wait_fd(fd, POLLOUT, timeout_ms) || getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 ||
      err != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool round_trip(int fd, int timeout_ms) {
  const char msg[] = "ping\n";
  if (send(fd, msg, sizeof msg - 1, MSG_NOSIGNAL) != ssize_t(sizeof msg - 1)) return false;
  char buf[64];
  if (!wait_fd(fd, POLLIN, timeout_ms)) return false;
  return recv(fd, buf, sizeof buf, 0) > 0;
}

// Echoes one datagram from the address it was sent to (like a real DNS or DHCP server), not
// from the interface's primary address, so the client's conntrack sees a reply.
void echo_datagram(int fd, char* buf, std::size_t size) {
  sockaddr_storage from{};
  iovec iov{buf, size};
  alignas(cmsghdr) char control[256];
  msghdr m{};
  m.msg_name = &from;
  m.msg_namelen = sizeof from;
  m.msg_iov = &iov;
  m.msg_iovlen = 1;
  m.msg_control = control;
  m.msg_controllen = sizeof control;
  ssize_t n = recvmsg(fd, &m, 0);
  if (n <= 0) return;
  iov.iov_len = std::size_t(n);
  in_pktinfo reply{};
  bool have = false;
  for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      std::memcpy(&reply, CMSG_DATA(c), sizeof reply);
      reply.ipi_ifindex = 0;
      have = true;
    }
  alignas(cmsghdr) char out[CMSG_SPACE(sizeof(in_pktinfo))] = {};
  m.msg_control = have ? out : nullptr;
  m.msg_controllen = have ? sizeof out : 0;
  if (have) {
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof reply);
    std::memcpy(CMSG_DATA(c), &reply, sizeof reply);
  }
  m.msg_flags = 0;
  sendmsg(fd, &m, 0);
}

int serve(const std::string& addr, const std::vector<int>& ports) {
  std::vector<pollfd> fds;
  std::vector<int> kinds;  // 0 tcp listener, 1 udp, 2 tcp connection
  for (int port : ports) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!resolve(addr, port, ss, len)) return 2;
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      int fd = socket(ss.ss_family, type | SOCK_CLOEXEC, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0) {
        std::perror("bind");
        return 2;
      }
      if (type == SOCK_STREAM) listen(fd, 512);
      if (type == SOCK_DGRAM && ss.ss_family == AF_INET)
        setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
      fds.push_back({fd, POLLIN, 0});
      kinds.push_back(type == SOCK_STREAM ? 0 : 1);
    }
  }
  std::printf("ready\n");
  std::fflush(stdout);
  for (;;) {
    if (poll(fds.data(), fds.size(), -1) < 0) continue;
    for (std::size_t i = 0; i < fds.size(); ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      char buf[2048];
      if (kinds[i] == 0) {
        int c = accept4(fds[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c >= 0) {
          fds.push_back({c, POLLIN, 0});
          kinds.push_back(2);
        }
      } else if (kinds[i] == 1) {
        echo_datagram(fds[i].fd, buf, sizeof buf);
      } else {
        ssize_t n = recv(fds[i].fd, buf, sizeof buf, 0);
        if (n <= 0) {
          close(fds[i].fd);
          fds.erase(fds.begin() + long(i));
          kinds.erase(kinds.begin() + long(i));
          --i;
        } else {
          send(fds[i].fd, buf, std::size_t(n), MSG_NOSIGNAL);
        }
      }
    }
  }
}

int udp(const std::string& host, int port, int timeout_ms) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  if (!resolve(host, port, ss, len)) return 2;
  int fd = client_socket(SOCK_DGRAM, ss);
  if (fd < 0) return 1;
  if (sendto(fd, "q", 1, 0, reinterpret_cast<sockaddr*>(&ss), len) != 1) {
    std::printf("send failed: %s\n", std::strerror(errno));
    return 1;
  }
  char buf[16];
  bool ok = wait_fd(fd, POLLIN, timeout_ms) && recv(fd, buf, sizeof buf, 0) > 0;
  std::printf("%s\n", ok ? "ok" : "no reply");
  return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  while (a.size() >= 2 && (a[0] == "--src" || a[0] == "--sport")) {
    if (a[0] == "--src")
      g_src = a[1];
    else
      g_sport = std::atoi(a[1].c_str());
    a.erase(a.begin(), a.begin() + 2);
  }
  auto arg = [&](std::size_t i, int fallback) {
    return i < a.size() ? std::atoi(a[i].c_str()) : fallback;
  };
  if (a.size() >= 3 && a[0] == "serve") {
    std::vector<int> ports;
    for (std::size_t i = 2; i < a.size(); ++i) ports.push_back(std::atoi(a[i].c_str()));
    return serve(a[1], ports);
  }
  if (a.size() >= 3 && a[0] == "tcp") {
    int fd = tcp_connect(a[1], arg(2, 0), arg(3, 1000));
    bool ok = fd >= 0 && round_trip(fd, arg(3, 1000));
    std::printf("%s\n", ok ? "ok" : "failed");
    return ok ? 0 : 1;
  }
  if (a.size() >= 3 && a[0] == "udp") return udp(a[1], arg(2, 0), arg(3, 1000));
  if (a.size() >= 5 && a[0] == "hold") {
    int fd = tcp_connect(a[1], arg(2, 0), 1000);
    if (fd < 0) {
      std::printf("connect failed\n");
      return 1;
    }
    for (int i = 0; i < arg(4, 1); ++i) {
      if (!round_trip(fd, 1000)) {
        std::printf("fail %d\n", i);
        std::fflush(stdout);
        return 1;
      }
      std::printf("ok %d\n", i);
      std::fflush(stdout);
      usleep(useconds_t(arg(3, 100)) * 1000);
    }
    return 0;
  }
  if (a.size() >= 4 && a[0] == "flood") {
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (!resolve(a[1], arg(2, 0), ss, len)) return 2;
    int fd = client_socket(SOCK_DGRAM, ss);
    long n = std::atol(a[3].c_str()), errors = 0;
    for (long i = 0; i < n; ++i)
      if (sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&ss), len) != 1) ++errors;
    std::printf("sent %ld, refused %ld\n", n, errors);
    return 0;
  }
  if (a.size() >= 4 && a[0] == "rate") {
    auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(arg(3, 1000));
    long ok = 0, failed = 0;
    auto start = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() < end) {
      int fd = tcp_connect(a[1], arg(2, 0), 1000);
      if (fd >= 0) {
        ++ok;
        // RST instead of FIN: no TIME_WAIT pile-up on either side during the loop.
        linger l{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
        close(fd);
      } else {
        ++failed;
      }
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%.0f connections/s (%ld ok, %ld failed)\n", ok / s, ok, failed);
    return failed == 0 ? 0 : 1;
  }
  std::fprintf(stderr, "usage: see the comment at the top of tests/net/probe.cpp\n");
  return 2;
}
