#pragma once
// `seatlock-collector fleet publish --tree DIR --key FLEET_KEY --bundles OUT [--expires 14d]
// [--db FILE | --store SPEC] [--config FILE] [--by NAME]`: prunes expired entries of grant files
// (`85-grant-*.json`, recorded as `fleet.grant_expired` as a central action does), refuses a tree
// with any error; otherwise signs one bundle per seat with the next version and commits them to
// OUT, where a running `serve --bundles OUT` picks them up. Paths as the central actions resolve
// them (central_config.hpp).
#include <chrono>
#include <ostream>

#include "../commands.hpp"
#include "core/fleet/tree.hpp"
#include "core/util/time.hpp"
#include "fleet_key.hpp"

namespace seatlock::collector::fleet_cli {

int fleet_publish(const ArgList& args, UnixMillis now, std::ostream& out);

// The publish step itself, for a plan already checked without errors (fleet_publish above, and
// the central actions that checked the would-be tree in memory: central_action.hpp).
int publish_checked(const seatlock::fleet::FleetPlan& plan, const FleetKey& key,
                    const std::string& bundles, UnixMillis now, std::int64_t lifetime,
                    std::chrono::steady_clock::time_point started, std::ostream& out);

}  // namespace seatlock::collector::fleet_cli
