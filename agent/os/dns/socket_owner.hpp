#pragma once
// Who sent a query: the uid owning the client's socket, found by the client's address and port
// (the peer address the guard sees is the client socket's own: the redirect only rewrote the
// destination), in the guard's network namespace.
//
// First through NETLINK_SOCK_DIAG (inet_diag): one request per lookup, filtered by the kernel
// on the source port, matched here on the exact address (else a socket bound to the wildcard
// address on that port: an unconnected client that never bound one); that costs a few microseconds
// where reading /proc/net/udp cost one line per socket of the namespace (it held refused names to
// 13,600-15,300 q/s). When sock_diag cannot answer (no inet_diag/udp_diag in the kernel, a
// netlink error), /proc/net/{udp,tcp}[6] as before, and the fallback is counted: the user is
// never lost silently.
#include <sys/socket.h>

#include <cstdint>
#include <optional>
#include <string>

namespace seatlock::dns {

// -1 when no socket with that local address and port is listed (the client already closed it).
// A UDP query that reached the guard at `guard` (its socket's address) through the redirect:
// socket_uid_exact first; then the sock_diag dump; /proc/net when sock_diag cannot answer.
std::int64_t socket_uid(const sockaddr_storage& peer, bool tcp,
                        const sockaddr_storage* guard = nullptr);

// A redirected UDP query: its conntrack entry (by the reply tuple guard -> peer) tells where the
// client sent it, and sock_diag's exact lookup (no dump) the socket that receives from there
// at `peer`. nullopt when either cannot tell (no such flow, no ctnetlink, the socket is gone).
std::optional<std::int64_t> socket_uid_exact(const sockaddr_storage& peer,
                                             const sockaddr_storage& guard);

// sock_diag only: nullopt when it cannot answer (the caller falls back); -1 when it answered and
// no socket matched. A dual-stack client asking over IPv4 is found as ::ffff:a.b.c.d too.
std::optional<std::int64_t> socket_uid_diag(const sockaddr_storage& peer, bool tcp);

// /proc/net/{udp,tcp}[6] of `proc_net` only.
std::int64_t socket_uid_proc(const sockaddr_storage& peer, bool tcp,
                             const std::string& proc_net = "/proc/net");

// Redirected UDP queries whose owner socket_uid_exact could not tell (no conntrack entry, no
// ctnetlink, the socket already closed): they took the sock_diag dump.
std::uint64_t socket_owner_udp_dumps();
// Lookups sock_diag could not answer since the process started (they went to /proc/net).
std::uint64_t socket_owner_fallbacks();
// The last reason sock_diag could not answer ("" when it never failed).
std::string socket_owner_last_failure();

}  // namespace seatlock::dns
