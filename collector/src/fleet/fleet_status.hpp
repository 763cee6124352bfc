#pragma once
// `seatlock-collector fleet status [--group NAME --tree DIR] [--json] [--bundles DIR]
//  --db PATH | --store SPEC`: who runs what (docs/fleet.md "fleet status").
//
// Per seat: the bundle version published (the bundle directory) and acknowledged (the seat's
// latest policy.applied and its details.fleet.version) and since when, internet closed or open
// (the published bundle's network.closed, and the seat's own latest net.closed / net.opened),
// the grants in force (exceptions of the published bundle whose `until` is ahead), when the seat
// was last seen, and its violations of the last 24 h; seats that are behind, silent, never
// seen, refusing the published bundle or running local edits stand out.
//
// Cost does not grow with one store scan per seat: the seat records, the refusal records, one
// query per event kind (policy.applied, policy.rejected, net.closed, net.opened) and one query
// of the last 24 h, whatever the number of seats. Only EventStore queries: SQLite and ClickHouse.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "../commands.hpp"
#include "../store.hpp"
#include "bundle_dir.hpp"
#include "core/util/time.hpp"

namespace seatlock::collector::fleet_cli {

// An exception of the published bundle that is still in force.
struct FleetGrant {
  std::string section;  // "usb" or "network"
  std::string ticket;
  UnixMillis until = 0;  // 0 = none given
  nlohmann::json entry;  // the exception as written in the tree
};

// What the fleet published for one seat (its bundle of the last complete publish).
struct PublishedState {
  std::uint64_t version = 0;
  UnixMillis issued = 0, expires = 0;
  nlohmann::json closure;  // network.closed of the last file that sets it (null: none)
  bool closed = false;     // closure present and its `until` (if any) ahead
  std::vector<FleetGrant> grants;
};

struct SeatFleetStatus {
  std::string seat;
  std::optional<PublishedState> published;  // none: the fleet has no bundle for this seat
  std::uint64_t acked = 0;                  // fleet version of the latest policy.applied
  UnixMillis acked_at = 0;                  // first policy.applied carrying that version
  // details.fleet.local_overrides of the latest policy.applied (null: unknown, an older seat)
  nlohmann::json local_overrides;
  nlohmann::json refused;  // latest fleet policy.rejected above the ack: version, refusal, at
  std::string seat_net;    // "closed" / "opened" from the seat's latest event ("" none)
  UnixMillis seat_net_at = 0;
  bool seen = false;         // the store has a seat record
  UnixMillis last_seen = 0;  // last contact (events received or a refused batch)
  bool silent = false;       // as `seatlock-collector seats` decides
  std::uint64_t violations_24h = 0;
  std::vector<std::string> flags;  // in kFlagOrder order
};

// Most urgent first; the table lists seats by their first flag in this order.
inline const std::vector<std::string> kFlagOrder = {"silent", "never-seen",  "refused",
                                                    "behind", "local-edits", "no-bundle"};

struct FleetStatusOptions {
  UnixMillis now = 0;
  std::optional<std::set<std::string>> only;  // --group: the group's seats
  std::uint64_t silent_after = 3;             // heartbeat intervals (as `seats`)
  std::int64_t default_heartbeat_ms = 5 * 60'000;
};

struct FleetStatus {
  std::uint64_t published_version = 0;  // the bundle directory's current version
  std::vector<SeatFleetStatus> seats;   // sorted by seat id
};

// The published state of one signed bundle document as of `now`. Throws on a document that is
// not a bundle.
PublishedState summarize_bundle(const std::string& document, UnixMillis now);

FleetStatus gather_fleet_status(EventStore& store,
                                const std::map<std::string, PublishedBundle>& bundles,
                                std::uint64_t published_version, const FleetStatusOptions& opt);

// Human table, problems first; stable JSON for scripts (seats by id).
void print_fleet_status(const FleetStatus& st, std::ostream& out);
nlohmann::json fleet_status_json(const FleetStatus& st, UnixMillis now);

int fleet_status(const ArgList& args, UnixMillis now, std::ostream& out);

}  // namespace seatlock::collector::fleet_cli
