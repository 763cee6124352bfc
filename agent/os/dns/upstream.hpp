#pragma once
// Forwarding a query to the resolvers of network.dns from sockets carrying the guard's mark
// (SO_MARK, CAP_NET_ADMIN): the only DNS the ruleset lets reach the resolvers, and the only DNS
// the nat redirect leaves alone.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace seatlock::dns {

struct UpstreamOptions {
  std::vector<std::string> resolvers;  // IP literals, tried in order
  std::uint32_t mark = 0;
  int timeout_ms = 2000;  // per resolver
};

// The first reply whose id matches the query's, over UDP (tcp == false) or TCP (length-prefixed,
// RFC 7766); nullopt with `error` set when no resolver answered.
std::optional<std::vector<std::uint8_t>> ask_upstream(const UpstreamOptions& options,
                                                      const std::uint8_t* query, std::size_t len,
                                                      bool tcp, std::string* error);

// A worker keeps its UDP socket to a resolver from one query to the next while more queries
// wait (opening, marking, connecting and closing one per query took about a tenth of the
// guard's CPU under load); it calls this when it runs out of work: the sockets it kept are
// closed, so an idle guard holds no upstream socket and a burst does not keep one source port
// for long.
void release_upstream_sockets();

// Reads or writes exactly `len` bytes on a blocking socket with a receive/send timeout;
// false on EOF, error or timeout. Shared with the guard's TCP listener.
bool read_exact(int fd, std::uint8_t* buf, std::size_t len);
bool write_all(int fd, const std::uint8_t* buf, std::size_t len);

}  // namespace seatlock::dns
