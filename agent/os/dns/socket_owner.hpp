#pragma once
// Who sent a query: the uid owning the client's socket, found in /proc/net/{udp,tcp}[6] of the
// guard's network namespace by the client's address and port (the peer address the guard sees
// is the client socket's own: the redirect only rewrote the destination).
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace seatlock::dns {

// -1 when no socket with that local address and port is listed (the client already closed it).
std::int64_t socket_uid(const sockaddr_storage& peer, bool tcp,
                        const std::string& proc_net = "/proc/net");

}  // namespace seatlock::dns
