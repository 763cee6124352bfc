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
