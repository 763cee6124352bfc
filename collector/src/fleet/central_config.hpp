#pragma once
// Where the central actions (`net`, `grant`, `revoke`) find the fleet tree, the fleet key, the
// bundle directory and the event store, so IT types the short form on a packaged collector:
//   1. the command's own flags (--tree, --key, --bundles, --expires, --db / --store ...);
//   2. otherwise the config file: --config FILE, or /etc/seatlock-collector/fleet.json when it
//      exists: {"tree": "/srv/fleet", "key": "...", "bundles": "...", "store": "sqlite:...",
//      "expires": "14d"} (every key optional);
//   3. otherwise the packaged defaults below (docs/fleet.md).
#include <set>
#include <string>

#include "core/util/args.hpp"

namespace seatlock::collector::fleet_cli {

inline constexpr const char* kDefaultConfig = "/etc/seatlock-collector/fleet.json";
inline constexpr const char* kDefaultTree = "/srv/fleet";
inline constexpr const char* kDefaultKey = "/etc/seatlock-collector/fleet.key";
inline constexpr const char* kDefaultBundles = "/var/lib/seatlock-collector/bundles";
inline constexpr const char* kDefaultStore = "sqlite:/var/lib/seatlock-collector/events.db";

struct CentralSetup {
  std::string tree, key, bundles, expires, store_spec;
  std::string actor;  // who runs the action: --by, else SUDO_USER, else the login name
};

// The valued flags every central action accepts (the store's included).
std::set<std::string> central_option_names();
CentralSetup resolve_central_setup(const ArgParser& a);

}  // namespace seatlock::collector::fleet_cli
