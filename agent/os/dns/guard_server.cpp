// GuardServer: the guard's sockets and its poll loop.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "core/util/time.hpp"
#include "os/dns/dns_wire.hpp"
#include "os/dns/guard.hpp"
#include "os/dns/socket_owner.hpp"

namespace seatlock::dns {

namespace {

UnixMillis now_unix_millis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// 127.0.0.1:port or [::1]:port: where the guard listens (and the redirect sends to).
sockaddr_storage loopback(int family, std::uint16_t port) {
  sockaddr_storage ss{};
  if (family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&ss);
    a->sin_family = AF_INET;
    a->sin_port = htons(port);
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  } else {
    auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
    a->sin6_family = AF_INET6;
    a->sin6_port = htons(port);
    a->sin6_addr = in6addr_loopback;
  }
  return ss;
}

int bound_socket(int family, int type, std::uint16_t port) {
  int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  const sockaddr_storage ss = loopback(family, port);
  const socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) != 0 ||
      (type == SOCK_STREAM && ::listen(fd, 64) != 0)) {
    int err = errno;
    ::close(fd);
    throw std::runtime_error(std::string("bind ") + (family == AF_INET ? "127.0.0.1" : "[::1]") +
                             ":" + std::to_string(port) + ": " + std::strerror(err));
  }
  return fd;
}

}  // namespace

GuardServer::GuardServer(Guard& guard, std::uint16_t port, std::size_t workers)
    : guard_(guard), port_(port) {
  if (::pipe2(stop_pipe_, O_CLOEXEC | O_NONBLOCK) != 0)
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  try {
    for (int family : {AF_INET, AF_INET6}) {
      udp_.push_back(bound_socket(family, SOCK_DGRAM, port));
      tcp_.push_back(bound_socket(family, SOCK_STREAM, port));
    }
  } catch (...) {
    for (int fd : udp_) ::close(fd);
    for (int fd : tcp_) ::close(fd);
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
    throw;
  }
  pool_ = std::make_unique<WorkerPool>(workers == 0 ? 1 : workers, kMaxQueued,
                                       release_upstream_sockets);
}

GuardServer::~GuardServer() {
  pool_.reset();  // the queries in flight end first: they answer on the sockets
  for (int fd : udp_) ::close(fd);
  for (int fd : tcp_) ::close(fd);
  ::close(stop_pipe_[0]);
  ::close(stop_pipe_[1]);
}

void GuardServer::stop() {
  char c = 1;
  [[maybe_unused]] ssize_t n = ::write(stop_pipe_[1], &c, 1);
}

void GuardServer::resolve(const std::vector<std::string>& names, std::int64_t uid) {
  std::uint16_t id = 0x5100;
  for (const auto& name : names)
    for (bool aaaa : {false, true}) {
      auto query = make_query(name, aaaa, id++);
      if (query.empty()) continue;
      const bool queued = pool_->submit([this, uid, query = std::move(query)] {
        try {
          guard_.handle(query.data(), query.size(), false, uid, now_unix_millis());
        } catch (const std::exception&) {
          ++dropped_;
        }
      });
      if (!queued) ++dropped_;
    }
}

// One datagram: read here, answered on a worker (the guard, the reply). False when none was
// waiting.
bool GuardServer::udp_ready(int fd) {
  std::uint8_t buf[65535];
  sockaddr_storage from{};
  socklen_t flen = sizeof from;
  ssize_t n =
      ::recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&from), &flen);
  if (n <= 0) return false;
  std::vector<std::uint8_t> msg(buf, buf + n);
  const bool queued = pool_->submit([this, fd, from, flen, msg = std::move(msg)] {
    try {
      const sockaddr_storage guard_address = loopback(from.ss_family, port_);
      auto reply = guard_.handle(
          msg.data(), msg.size(), false, [&] { return socket_uid(from, false, &guard_address); },
          now_unix_millis());
      if (!reply.empty())
        ::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<const sockaddr*>(&from), flen);
    } catch (const std::exception&) {
      ++dropped_;  // no answer: the client retries or times out, never gets an unchecked one
    }
  });
  if (!queued) ++dropped_;
  return true;
}

// A TCP connection: accepted here, served on a worker.
void GuardServer::tcp_ready(int listen_fd) {
  sockaddr_storage peer{};
  socklen_t plen = sizeof peer;
  int c = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_CLOEXEC);
  if (c < 0) return;
  if (!pool_->submit([this, c, peer] {
        try {
          serve_tcp(c, peer);
        } catch (const std::exception&) {
          ++dropped_;
        }
        ::close(c);
      })) {
    ++dropped_;
    ::close(c);
  }
}

// Length-prefixed messages (RFC 7766) until the client closes or is idle for 2 s.
void GuardServer::serve_tcp(int c, const sockaddr_storage& peer) {
  std::optional<std::int64_t> uid;  // looked up once, when a message of this client needs it
  auto asker = [&] {
    if (!uid) uid = socket_uid(peer, true);
    return *uid;
  };
  timeval tv{2, 0};
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  std::uint8_t prefix[2];
  std::vector<std::uint8_t> msg;
  while (read_exact(c, prefix, 2)) {
    msg.resize((prefix[0] << 8) | prefix[1]);
    if (msg.empty() || !read_exact(c, msg.data(), msg.size())) break;
    auto reply = guard_.handle(msg.data(), msg.size(), true, asker, now_unix_millis());
    if (reply.empty() || reply.size() > 65535) break;
    std::uint8_t out[2] = {std::uint8_t(reply.size() >> 8), std::uint8_t(reply.size())};
    if (!write_all(c, out, 2) || !write_all(c, reply.data(), reply.size())) break;
  }
}

void GuardServer::serve(const std::function<void()>& tick) {
  std::vector<pollfd> fds;
  fds.push_back({stop_pipe_[0], POLLIN, 0});
  for (int fd : udp_) fds.push_back({fd, POLLIN, 0});
  for (int fd : tcp_) fds.push_back({fd, POLLIN, 0});
  auto next_refresh = std::chrono::steady_clock::now();
  for (;;) {
    // Names kept fresh (the collector's), looked up as seatlockd's own queries; checked about
    // every 200 ms, not on every datagram.
    if (std::chrono::steady_clock::now() >= next_refresh) {
      next_refresh = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
      auto due = guard_.due_refreshes(now_unix_millis());
      if (!due.empty()) resolve(due, std::int64_t(::geteuid()));
    }
    int n = ::poll(fds.data(), fds.size(), 200);
    if (n < 0 && errno != EINTR) throw std::runtime_error(std::string("poll: ") + strerror(errno));
    if (fds[0].revents) return;
    for (std::size_t i = 1; n > 0 && i < fds.size(); ++i) {
      if (!(fds[i].revents & POLLIN)) continue;
      if (i <= udp_.size()) {
        // Up to 64 datagrams per wake-up: under load one poll() per datagram cost as much as
        // reading it; the cap lets the other sockets (and stop) in.
        for (int k = 0; k < 64 && udp_ready(fds[i].fd); ++k) {
        }
      } else
        tcp_ready(fds[i].fd);
    }
    if (tick) tick();
  }
}

}  // namespace seatlock::dns
