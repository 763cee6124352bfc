// The owner of a client socket through NETLINK_SOCK_DIAG (inet_diag, linux/inet_diag.h): a dump
// request for the protocol and family with the source port set, which the kernel's UDP and TCP
// dumps use as a filter (udp_dump, inet_diag_dump_icsk), so the reply holds only the sockets on
// that port; the address is matched here, exactly. One netlink socket per thread, kept
// (netlink_socket.hpp).
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>

#include "os/dns/netlink_socket.hpp"
#include "os/dns/socket_owner.hpp"

namespace seatlock::dns {

namespace {

std::atomic<std::uint64_t> g_fallbacks{0};
std::mutex g_failure_mutex;
std::string g_last_failure;

// nullopt after counting the failure (the caller falls back to /proc/net).
std::optional<std::int64_t> cannot_answer(const std::string& why) {
  ++g_fallbacks;
  std::lock_guard lock(g_failure_mutex);
  g_last_failure = why;
  return std::nullopt;
}

// One dump: the uid of the socket of `family` whose local address is the `addr_len` bytes at
// `addr` and whose local port is `port_be` (network order); -1 when none is.
std::optional<std::int64_t> lookup(std::uint8_t family, bool tcp, const void* addr,
                                   std::size_t addr_len, std::uint16_t port_be) {
  const int fd = thread_sock_diag_socket().get();
  if (fd < 0) return cannot_answer(std::string("socket(NETLINK_SOCK_DIAG): ") + strerror(errno));
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } request{};
  request.nlh.nlmsg_len = sizeof request;
  request.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  request.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  request.nlh.nlmsg_seq = thread_sock_diag_socket().next_seq();
  request.req.sdiag_family = family;
  request.req.sdiag_protocol = tcp ? IPPROTO_TCP : IPPROTO_UDP;
  // UDP: connected (ESTABLISHED) and unconnected (CLOSE) sockets; TCP: all but listeners (a
  // listener on the client's port is not the client).
  request.req.idiag_states = tcp ? ~(1u << TCP_LISTEN) : ~0u;
  request.req.id.idiag_sport = port_be;
  request.req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
  request.req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  if (::sendto(fd, &request, sizeof request, 0, reinterpret_cast<sockaddr*>(&kernel),
               sizeof kernel) != ssize_t(sizeof request)) {
    const std::string why = std::string("sock_diag request: ") + strerror(errno);
    thread_sock_diag_socket().reset();
    return cannot_answer(why);
  }
  // A socket bound to the exact address is the asker; else one bound to the wildcard address
  // on that port (an unconnected client socket that never bound an address: /proc/net's match
  // missed those).
  static const std::uint8_t kAny[16] = {};
  std::int64_t exact = -1, wildcard = -1;
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      const std::string why = std::string("sock_diag reply: ") + (n < 0 ? strerror(errno) : "EOF");
      thread_sock_diag_socket().reset();
      return cannot_answer(why);
    }
    int len = int(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_seq != request.nlh.nlmsg_seq) continue;
      if (h->nlmsg_type == NLMSG_DONE) return exact >= 0 ? exact : wildcard;
      if (h->nlmsg_type == NLMSG_ERROR) {
        const auto* e = static_cast<const nlmsgerr*>(NLMSG_DATA(h));
        const std::string why = std::string("sock_diag: ") + strerror(-e->error);
        thread_sock_diag_socket().reset();
        return cannot_answer(why);
      }
      if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY ||
          h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg)))
        continue;
      const auto* m = static_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      // Read on to NLMSG_DONE even after a match: the socket must be left with nothing.
      if (m->idiag_family != family || m->id.idiag_sport != port_be) continue;
      if (std::memcmp(m->id.idiag_src, addr, addr_len) == 0)
        exact = m->idiag_uid;
      else if (std::memcmp(m->id.idiag_src, kAny, addr_len) == 0)
        wildcard = m->idiag_uid;
    }
  }
}

}  // namespace

std::optional<std::int64_t> socket_uid_diag(const sockaddr_storage& peer, bool tcp) {
  if (peer.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&peer);
    auto uid = lookup(AF_INET, tcp, &a->sin_addr, 4, a->sin_port);
    if (!uid || *uid >= 0) return uid;
    // A dual-stack client socket holds the IPv4 address as ::ffff:a.b.c.d.
    in6_addr mapped{};
    mapped.s6_addr[10] = mapped.s6_addr[11] = 0xff;
    std::memcpy(&mapped.s6_addr[12], &a->sin_addr, 4);
    return lookup(AF_INET6, tcp, &mapped, 16, a->sin_port);
  }
  if (peer.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&peer);
    return lookup(AF_INET6, tcp, &a->sin6_addr, 16, a->sin6_port);
  }
  return -1;
}

std::uint64_t socket_owner_fallbacks() {
  return g_fallbacks;
}

std::string socket_owner_last_failure() {
  std::lock_guard lock(g_failure_mutex);
  return g_last_failure;
}

}  // namespace seatlock::dns
