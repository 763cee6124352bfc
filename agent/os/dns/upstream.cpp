#include "os/dns/upstream.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

namespace seatlock::dns {

namespace {

struct Fd {
  int fd = -1;
  explicit Fd(int f) : fd(f) {}
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// Parses an IP literal into a sockaddr with port 53.
bool resolver_address(const std::string& ip, sockaddr_storage& ss, socklen_t& len) {
  std::memset(&ss, 0, sizeof ss);
  auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
  auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
  if (inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(53);
    len = sizeof *v4;
    return true;
  }
  if (inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(53);
    len = sizeof *v6;
    return true;
  }
  return false;
}

int marked_socket(int family, int type, const UpstreamOptions& o, std::string* error) {
  int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    *error = std::string("socket: ") + std::strerror(errno);
    return -1;
  }
  timeval tv{o.timeout_ms / 1000, (o.timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (setsockopt(fd, SOL_SOCKET, SO_MARK, &o.mark, sizeof o.mark) != 0) {
    *error = std::string("SO_MARK (needs CAP_NET_ADMIN): ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

std::uint16_t id_of(const std::uint8_t* m) {
  return std::uint16_t((m[0] << 8) | m[1]);
}

// A worker's UDP socket to one resolver, kept for the next exchanges while the worker has more
// queries to answer (release_upstream_sockets() closes it when the worker goes idle). It is also
// replaced after kMaxUses exchanges or kMaxAgeMs (the source port keeps changing, as a
// resolver's defence against spoofed answers expects), and at once after any failure (a late
// reply to a timed-out query must never be read as the answer to the next one).
struct KeptSocket {
  static constexpr int kMaxUses = 100;
  static constexpr std::int64_t kMaxAgeMs = 2'000;
  int fd = -1;
  sockaddr_storage peer{};
  std::uint32_t mark = 0;
  int timeout_ms = 0;
  int uses = 0;
  std::chrono::steady_clock::time_point born;
  ~KeptSocket() { drop(); }
  void drop() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  bool fits(const sockaddr_storage& ss, socklen_t sl, const UpstreamOptions& o) const {
    return fd >= 0 && std::memcmp(&peer, &ss, sl) == 0 && mark == o.mark &&
           timeout_ms == o.timeout_ms && uses < kMaxUses &&
           std::chrono::steady_clock::now() - born < std::chrono::milliseconds(kMaxAgeMs);
  }
};

// One per worker thread and resolver family; a worker asks one resolver at a time.
thread_local KeptSocket kept_udp[2];
thread_local std::vector<std::uint8_t> udp_buffer;

}  // namespace

void release_upstream_sockets() {
  for (auto& s : kept_udp) s.drop();
}

namespace {

std::optional<std::vector<std::uint8_t>> over_udp(const sockaddr_storage& ss, socklen_t sl,
                                                  const UpstreamOptions& o, const std::uint8_t* q,
                                                  std::size_t len, std::string* error) {
  KeptSocket& s = kept_udp[ss.ss_family == AF_INET6 ? 1 : 0];
  if (!s.fits(ss, sl, o)) {
    s.drop();
    s.fd = marked_socket(ss.ss_family, SOCK_DGRAM, o, error);
    if (s.fd < 0) return std::nullopt;
    if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&ss), sl) != 0) {
      *error = std::string("connect: ") + std::strerror(errno);
      s.drop();
      return std::nullopt;
    }
    std::memset(&s.peer, 0, sizeof s.peer);
    std::memcpy(&s.peer, &ss, sl);
    s.mark = o.mark;
    s.timeout_ms = o.timeout_ms;
    s.uses = 0;
    s.born = std::chrono::steady_clock::now();
  }
  ++s.uses;
  if (::send(s.fd, q, len, 0) != static_cast<ssize_t>(len)) {
    *error = std::string("send: ") + std::strerror(errno);
    s.drop();
    return std::nullopt;
  }
  udp_buffer.resize(65535);  // allocated once per thread, never cleared
  for (;;) {                 // a stray datagram with another id is skipped, until the timeout
    ssize_t n = ::recv(s.fd, udp_buffer.data(), udp_buffer.size(), 0);
    if (n < 0) {
      *error = errno == EAGAIN ? "timeout" : std::string("recv: ") + std::strerror(errno);
      s.drop();
      return std::nullopt;
    }
    if (n >= 12 && id_of(udp_buffer.data()) == id_of(q))
      return std::vector<std::uint8_t>(udp_buffer.data(), udp_buffer.data() + n);
  }
}

std::optional<std::vector<std::uint8_t>> over_tcp(const sockaddr_storage& ss, socklen_t sl,
                                                  const UpstreamOptions& o, const std::uint8_t* q,
                                                  std::size_t len, std::string* error) {
  Fd s(marked_socket(ss.ss_family, SOCK_STREAM, o, error));
  if (s.fd < 0) return std::nullopt;
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&ss), sl) != 0) {
    *error = std::string("connect: ") + std::strerror(errno);
    return std::nullopt;
  }
  std::uint8_t prefix[2] = {std::uint8_t(len >> 8), std::uint8_t(len)};
  if (!write_all(s.fd, prefix, 2) || !write_all(s.fd, q, len) || !read_exact(s.fd, prefix, 2)) {
    *error = "tcp exchange failed";
    return std::nullopt;
  }
  std::vector<std::uint8_t> buf((prefix[0] << 8) | prefix[1]);
  if (buf.size() < 12 || !read_exact(s.fd, buf.data(), buf.size()) ||
      id_of(buf.data()) != id_of(q)) {
    *error = "tcp reply unreadable";
    return std::nullopt;
  }
  return buf;
}

}  // namespace

bool read_exact(int fd, std::uint8_t* buf, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::recv(fd, buf, len, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

bool write_all(int fd, const std::uint8_t* buf, std::size_t len) {
  while (len > 0) {
    ssize_t n = ::send(fd, buf, len, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buf += n;
    len -= static_cast<std::size_t>(n);
  }
  return true;
}

std::optional<std::vector<std::uint8_t>> ask_upstream(const UpstreamOptions& options,
                                                      const std::uint8_t* query, std::size_t len,
                                                      bool tcp, std::string* error) {
  *error = "no resolver configured";
  if (len < 12) return std::nullopt;
  for (const auto& ip : options.resolvers) {
    sockaddr_storage ss;
    socklen_t sl = 0;
    if (!resolver_address(ip, ss, sl)) {
      *error = "not an IP address: " + ip;
      continue;
    }
    auto reply = tcp ? over_tcp(ss, sl, options, query, len, error)
                     : over_udp(ss, sl, options, query, len, error);
    if (reply) return reply;
    *error = ip + ": " + *error;
  }
  return std::nullopt;
}

}  // namespace seatlock::dns
