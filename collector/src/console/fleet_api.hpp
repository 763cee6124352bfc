#pragma once
// The console's fleet page (issue 15, "Fleet"): GET /api/fleet (groups with internet open or
// closed, grants in force, publish status) and POST /api/fleet/net (close or open a group's
// internet with a ticket). The action is the very `seatlock-collector net close|open --group`
// (fleet/cmd_net.cpp) with the collector's fleet config (`serve --fleet-config FILE`, the file
// central_config.hpp reads), run as the console account (recorded as the actor of
// fleet.net_closed / fleet.net_opened in the collector's chain), so the CLI and the console
// can never disagree on what a closure is. Blocking: run on the console's worker pool.
#include <mutex>
#include <string>

#include "console/api.hpp"
#include "console/query_api.hpp"
#include "http.hpp"
#include "store.hpp"

namespace seatlock::collector::console {

struct FleetApiConfig {
  std::string fleet_config;                       // central_config.hpp's file; "" = no fleet (404)
  std::string store_spec;                         // the serving store: actions record into it
  std::string collector_instance, collector_key;  // the serving collector's chain ("" = default)
};

class FleetApi {
 public:
  FleetApi(EventStore& store, FleetApiConfig cfg) : store_(store), cfg_(std::move(cfg)) {}
  HttpResponse get(const ApiRequest& req);
  HttpResponse net(const ApiRequest& req);  // admins only (checked by the caller)
  // For the overview: seats whose applied fleet version is behind the published one (empty
  // without a fleet config, or when the fleet cannot be read: that is logged).
  std::vector<BehindSeat> behind_seats();

 private:
  EventStore& store_;
  FleetApiConfig cfg_;
  std::mutex action_mu_;  // one central action of this process at a time
};

}  // namespace seatlock::collector::console
