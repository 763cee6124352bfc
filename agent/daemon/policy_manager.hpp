#pragma once
// Loads the policy directory and puts an accepted policy in force across all services, two-phase
// (every service checks, then every service applies), so a rejected policy changes nothing.
// The last accepted policy is cached in the state directory so a broken directory at boot
// still starts with the last good state.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/policy/loader.hpp"
#include "daemon/service.hpp"

namespace seatlock {

// The fleet bundle in force (daemon/fleet): its files (names as in the bundle, "all/10-x.json")
// join every reload between the shipped default and the other local files (docs/fleet.md).
struct FleetInForce {
  std::uint64_t version = 0;  // 0 = no fleet files
  UnixMillis expires = 0;
  std::vector<PolicyFile> files;
};

// The policy directory as loaded once at start (without fleet files): the seat id comes from it
// and PolicyManager::load_initial() puts it in force, so start-up (before READY=1) loads, merges,
// validates and hashes the directory once, not once per use (issue 18).
struct StartupLoad {
  std::optional<Policy> policy;  // nullopt: unusable, `errors` say why
  std::vector<std::string> errors, warnings;
};
StartupLoad load_policy_directory(const DaemonOptions& opts);

// The seat id events are recorded under, known before the first event is recorded: --seat-id,
// else report.seat_id of the policy directory (when it loads and validates), else that of the
// cached last good policy (<state_dir>/last-good-policy.json), else the hostname.
SeatIdentity resolve_seat_identity(const DaemonOptions& opts, const StartupLoad& start);
// For an accepted policy (nullptr: none): --seat-id, else its report.seat_id, else the hostname.
SeatIdentity seat_identity_for(const DaemonOptions& opts, const Policy* policy);

class PolicyManager {
 public:
  PolicyManager(DaemonContext& ctx, std::vector<std::unique_ptr<Service>>& services,
                StartupLoad start = {});

  // Loads and applies. Returns true when the new policy is in force.
  bool reload(const std::string& reason);
  // Start-up: the directory as loaded at start (loaded again only to merge a fleet bundle set
  // since), else the cached last good policy. False when neither is usable.
  bool load_initial();
  // The directory's policy as loaded at start, until load_initial() (fleet restore reads its
  // pins); nullptr when it did not load.
  const Policy* local_at_start() const { return start_.policy ? &*start_.policy : nullptr; }

  const std::optional<Policy>& current() const { return current_; }

  // Fleet bundles (daemon/fleet/fleet_service.cpp). set_fleet() changes what the next reload
  // merges; it does not reload.
  void set_fleet(FleetInForce fleet) { fleet_ = std::move(fleet); }
  const FleetInForce& fleet() const { return fleet_; }
  // The policy of a verified, validated bundle: checked by every service and applied like a
  // local edit; on success `fleet` is the fleet in force (policy.applied names its version).
  // False (policy.rejected, `extra` added to its details) leaves the policy and the fleet in force
  // as they were.
  bool apply_fleet(FleetInForce fleet, Policy policy, const std::vector<std::string>& warnings,
                   const std::string& reason, const nlohmann::json& extra);
  // policy.rejected for a change refused before any service saw it (a refused bundle).
  void report_rejected(const std::vector<std::string>& errors, const std::string& reason,
                       const nlohmann::json& extra) {
    reject(errors, reason, extra);
  }
  nlohmann::json status() const;

 private:
  bool accept(Policy policy, const std::vector<std::string>& warnings, const std::string& reason,
              const nlohmann::json& rejected_extra = nlohmann::json::object());
  void reject(const std::vector<std::string>& errors, const std::string& reason,
              const nlohmann::json& extra = nlohmann::json::object());
  std::string cache_path() const;

  DaemonContext& ctx_;
  std::vector<std::unique_ptr<Service>>& services_;
  StartupLoad start_;  // emptied by load_initial()
  std::optional<Policy> current_;
  UnixMillis applied_at_ = 0;
  nlohmann::json last_rejected_;
  FleetInForce fleet_;
  // Of the policy in force while a bundle is (daemon/fleet/local_overrides.hpp).
  nlohmann::json local_overrides_;
};

}  // namespace seatlock
