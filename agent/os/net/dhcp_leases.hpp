#pragma once
// The DHCPv4 servers of the seat's leases, read from the lease files of the clients Debian
// ships: dhclient (`option dhcp-server-identifier A.B.C.D;`), NetworkManager's internal client
// and systemd-networkd (`SERVER_ADDRESS=A.B.C.D`). The egress rules let udp 68->67 reach only
// these and the broadcast address.
#include <string>
#include <vector>

namespace seatlock::net {

// The lease directories below `root` ("/" on a seat; tests pass a fake tree).
inline constexpr const char* kLeaseDirs[] = {"var/lib/dhcp", "var/lib/NetworkManager",
                                             "run/systemd/netif/leases"};

// Every server address named in a lease line of `text` (either format), in order of appearance.
std::vector<std::string> parse_lease_servers(const std::string& text);

// Distinct IPv4 server addresses from every regular file in the lease directories under `root`
// (at most 64; missing directories and unreadable files are skipped).
std::vector<std::string> dhcp_lease_servers(const std::string& root);

}  // namespace seatlock::net
