#pragma once
// The seat follows the fleet (docs/fleet.md "On the seat"): a long-poll to the collector
// (os/fleet/policy_poll_client.hpp) brings signed bundles; each is verified
// (core/fleet/verify.hpp) against the keys pinned in the seat's local policy, its seat id, the
// highest version applied (persisted, daemon/fleet/fleet_store.hpp) and its expiry, then
// applied through PolicyManager like a local edit. Runs with the delivery component: it uses
// the same collector, certificate and key.
#include <memory>

#include "daemon/policy_manager.hpp"
#include "daemon/service.hpp"

namespace seatlock {

// Restores the stored bundle into `policy` (set_fleet) before the first load, so make it
// before PolicyManager::load_initial().
std::unique_ptr<Service> make_fleet_service(DaemonContext& ctx, PolicyManager& policy);

}  // namespace seatlock
