#pragma once
// seatlockd's DNS guard (docs/dns.md): runs os/dns's Guard on its own thread while the policy
// has domain entries, on the network service's ruleset and nft context.
#include <memory>

#include "daemon/service.hpp"

namespace seatlock {

// `network` is the service make_network_service returned (the guard hooks into its applies).
std::unique_ptr<Service> make_dns_service(DaemonContext& ctx, Service& network);

}  // namespace seatlock
