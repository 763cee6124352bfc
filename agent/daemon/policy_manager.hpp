#pragma once
// Loads the policy directory and puts an accepted policy in force across all services, two-phase
// (every service checks, then every service applies), so a rejected policy changes nothing.
// The last accepted policy is cached in the state directory so a broken directory at boot
// still starts with the last good state.
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "daemon/service.hpp"

namespace seatlock {

// The seat id events are recorded under, known before the first event is recorded: --seat-id,
// else report.seat_id of the policy directory (when it loads and validates), else that of the
// cached last good policy (<state_dir>/last-good-policy.json), else the hostname.
SeatIdentity resolve_seat_identity(const DaemonOptions& opts);
// For an accepted policy (nullptr: none): --seat-id, else its report.seat_id, else the hostname.
SeatIdentity seat_identity_for(const DaemonOptions& opts, const Policy* policy);

class PolicyManager {
 public:
  PolicyManager(DaemonContext& ctx, std::vector<std::unique_ptr<Service>>& services);

  // Loads and applies. Returns true when the new policy is in force.
  bool reload(const std::string& reason);
  // Start-up: reload(), else the cached last good policy. False when neither is usable.
  bool load_initial();

  const std::optional<Policy>& current() const { return current_; }
  nlohmann::json status() const;

 private:
  bool accept(Policy policy, const std::vector<std::string>& warnings, const std::string& reason);
  void reject(const std::vector<std::string>& errors, const std::string& reason);
  std::string cache_path() const;

  DaemonContext& ctx_;
  std::vector<std::unique_ptr<Service>>& services_;
  std::optional<Policy> current_;
  UnixMillis applied_at_ = 0;
  nlohmann::json last_rejected_;
};

}  // namespace seatlock
