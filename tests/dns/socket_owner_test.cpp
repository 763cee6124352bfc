// Who asked: the owner of a client socket by its address and port, through sock_diag and through
// /proc/net (os/dns/socket_owner). Real sockets of this process on the loopback of a network
// namespace of its own: a test asserts that a port is nobody's, and on the host's loopback
// another test's socket could hold that number (seen once at ctest -j2).
#include "os/dns/socket_owner.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define CATCH_CONFIG_EXTERNAL_INTERFACES  // the listener below
#include <catch2/catch.hpp>

#include "support/own_netns.hpp"

using namespace seatlock;

// Every test case starts in a fresh namespace with only lo, before it opens any socket.
struct OwnNetworkNamespace : Catch::TestEventListenerBase {
  using TestEventListenerBase::TestEventListenerBase;
  void testCaseStarting(const Catch::TestCaseInfo&) override {
    seatlock::testing::enter_own_network_namespace();
  }
};
CATCH_REGISTER_LISTENER(OwnNetworkNamespace)

namespace {

// A socket that closes itself.
struct Fd {
  int fd;
  explicit Fd(int f) : fd(f) { REQUIRE(fd >= 0); }
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

sockaddr_storage local_address(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0);
  return ss;
}

sockaddr_storage v4(const char* addr, std::uint16_t port) {
  sockaddr_storage ss{};
  auto* a = reinterpret_cast<sockaddr_in*>(&ss);
  a->sin_family = AF_INET;
  a->sin_port = htons(port);
  REQUIRE(inet_pton(AF_INET, addr, &a->sin_addr) == 1);
  return ss;
}

std::uint16_t port_of(const sockaddr_storage& ss) {
  return ntohs(ss.ss_family == AF_INET ? reinterpret_cast<const sockaddr_in*>(&ss)->sin_port
                                       : reinterpret_cast<const sockaddr_in6*>(&ss)->sin6_port);
}

void bind_to(int fd, const sockaddr_storage& ss) {
  const socklen_t len = ss.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  REQUIRE(::bind(fd, reinterpret_cast<const sockaddr*>(&ss), len) == 0);
}

const std::int64_t me = std::int64_t(::geteuid());

}  // namespace

TEST_CASE("sock_diag finds the owner of a UDP client socket by its address and port", "[dns]") {
  Fd s(::socket(AF_INET, SOCK_DGRAM, 0));
  bind_to(s.fd, v4("127.0.0.1", 0));
  const sockaddr_storage peer = local_address(s.fd);
  const auto diag = dns::socket_uid_diag(peer, false);
  REQUIRE(diag.has_value());
  CHECK(*diag == me);
  CHECK(dns::socket_uid_proc(peer, false) == me);  // the fallback agrees
  CHECK(dns::socket_uid(peer, false) == me);
  // Exact: the same port on another address, or TCP, is nobody's.
  CHECK(dns::socket_uid_diag(v4("127.0.0.2", port_of(peer)), false) == -1);
  CHECK(dns::socket_uid_diag(peer, true) == -1);
  // Closed: nobody's (the client went away before the guard looked).
  ::close(s.fd);
  s.fd = -1;
  CHECK(dns::socket_uid_diag(peer, false) == -1);
  CHECK(dns::socket_owner_fallbacks() == 0);  // sock_diag answered every time
}

TEST_CASE("sock_diag finds IPv6 and dual-stack clients asking over IPv4", "[dns]") {
  Fd s6(::socket(AF_INET6, SOCK_DGRAM, 0));
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  REQUIRE(::bind(s6.fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  const sockaddr_storage peer6 = local_address(s6.fd);
  CHECK(dns::socket_uid_diag(peer6, false) == me);
  CHECK(dns::socket_uid_proc(peer6, false) == me);

  // A dual-stack socket connected to 127.0.0.1 holds ::ffff:127.0.0.1 as its address; the guard
  // sees an IPv4 peer.
  Fd dual(::socket(AF_INET6, SOCK_DGRAM, 0));
  int zero = 0;
  setsockopt(dual.fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
  sockaddr_in6 to{};
  to.sin6_family = AF_INET6;
  to.sin6_port = htons(53);
  REQUIRE(inet_pton(AF_INET6, "::ffff:127.0.0.1", &to.sin6_addr) == 1);
  REQUIRE(::connect(dual.fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  const sockaddr_storage seen = v4("127.0.0.1", port_of(local_address(dual.fd)));
  CHECK(dns::socket_uid_diag(seen, false) == me);
  CHECK(dns::socket_uid_proc(seen, false) == me);
}

TEST_CASE("sock_diag finds an unconnected client bound to the wildcard address", "[dns]") {
  // sendto() from a socket bound to 0.0.0.0: the guard sees 127.0.0.1:port, the socket table
  // lists 0.0.0.0:port (/proc/net's exact match missed it: the user was unknown).
  Fd s(::socket(AF_INET, SOCK_DGRAM, 0));
  bind_to(s.fd, v4("0.0.0.0", 0));
  const sockaddr_storage seen = v4("127.0.0.1", port_of(local_address(s.fd)));
  CHECK(dns::socket_uid_diag(seen, false) == me);
  CHECK(dns::socket_uid(seen, false) == me);
}

TEST_CASE("sock_diag finds the owner of a TCP client, not a listener on its port", "[dns]") {
  Fd listener(::socket(AF_INET, SOCK_STREAM, 0));
  bind_to(listener.fd, v4("127.0.0.1", 0));
  REQUIRE(::listen(listener.fd, 4) == 0);
  const sockaddr_storage server = local_address(listener.fd);
  // Nothing but the listener on its port: not a client.
  CHECK(dns::socket_uid_diag(server, true) == -1);
  Fd client(::socket(AF_INET, SOCK_STREAM, 0));
  REQUIRE(::connect(client.fd, reinterpret_cast<const sockaddr*>(&server), sizeof(sockaddr_in)) ==
          0);
  const sockaddr_storage peer = local_address(client.fd);
  CHECK(dns::socket_uid_diag(peer, true) == me);
  CHECK(dns::socket_uid_proc(peer, true) == me);
  CHECK(dns::socket_uid_diag(peer, false) == -1);  // not a UDP socket
}
