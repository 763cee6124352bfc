#pragma once
// `seatlock-collector fleet publish --tree DIR --key FLEET_KEY --bundles OUT [--expires 14d]`:
// refuses a tree with any error; otherwise signs one bundle per seat with the next version and
// commits them to OUT, where a running `serve --bundles OUT` picks them up.
#include <ostream>

#include "../commands.hpp"
#include "core/util/time.hpp"

namespace seatlock::collector::fleet_cli {

int fleet_publish(const ArgList& args, UnixMillis now, std::ostream& out);

}  // namespace seatlock::collector::fleet_cli
