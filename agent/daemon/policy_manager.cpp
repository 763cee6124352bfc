#include "daemon/policy_manager.hpp"

#include <filesystem>
#include <fstream>

#include "core/event/event.hpp"
#include "os/base/log.hpp"
#include "os/base/policy_files.hpp"

namespace seatlock {

PolicyManager::PolicyManager(DaemonContext& ctx, std::vector<std::unique_ptr<Service>>& services)
    : ctx_(ctx), services_(services) {}

std::string PolicyManager::cache_path() const {
  return ctx_.options.state_dir + "/last-good-policy.json";
}

bool PolicyManager::reload(const std::string& reason) {
  std::vector<PolicyFile> files;
  try {
    files = read_policy_dir(ctx_.options.policy_dir);
  } catch (const std::exception& e) {
    reject({e.what()}, reason);
    return false;
  }
  if (files.empty()) {
    reject({ctx_.options.policy_dir + ": no *.json policy files"}, reason);
    return false;
  }
  PolicyLoadOptions lo;
  lo.now = now_millis();
  lo.expired_is_error = false;  // a stale exception file must not block the rest of a reload
  PolicyLoadResult r = load_policy(files, lo);
  std::vector<std::string> warnings;
  for (const auto& w : r.warnings) warnings.push_back(w.text());
  if (!r.policy) {
    std::vector<std::string> errors;
    for (const auto& e : r.errors) errors.push_back(e.text());
    reject(errors, reason);
    return false;
  }
  return accept(std::move(*r.policy), warnings, reason);
}

bool PolicyManager::load_initial() {
  if (reload("start")) return true;
  std::ifstream in(cache_path());
  if (!in) return false;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PolicyLoadOptions lo;
  lo.now = now_millis();
  lo.expired_is_error = false;
  PolicyLoadResult r = load_policy({{"last-good-policy.json", text}}, lo);
  if (!r.policy) return false;
  log_warning("policy directory rejected; enforcing the last good policy " + r.policy->sha256);
  return accept(std::move(*r.policy), {}, "start (last good policy)");
}

bool PolicyManager::accept(Policy policy, const std::vector<std::string>& warnings,
                           const std::string& reason) {
  if (ctx_.options.network_mode_override) {
    policy.network.mode = *ctx_.options.network_mode_override;
    policy.effective["network"]["mode"] = to_string(policy.network.mode);
  }
  for (auto& s : services_) {
    try {
      s->check(policy);
    } catch (const std::exception& e) {
      reject({s->name() + ": " + e.what()}, reason);
      return false;
    }
  }
  if (!ctx_.options.seat_id.empty() || !policy.report.seat_id.empty())
    ctx_.reporter.set_seat(local_seat_identity(
        ctx_.options.seat_id.empty() ? policy.report.seat_id : ctx_.options.seat_id));
  ctx_.reporter.set_policy_hash(policy.sha256);
  std::vector<std::string> failures;
  for (auto& s : services_) {
    try {
      s->apply(policy);
    } catch (const std::exception& e) {
      failures.push_back(s->name() + ": " + e.what());
      log_error("applying policy to " + s->name() + " failed: " + e.what());
    }
  }
  // Cache the merged document (what would be re-loaded at a broken boot), atomically.
  {
    std::string tmp = cache_path() + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    out << policy.effective.dump(2) << "\n";
    out.close();
    if (out) std::filesystem::rename(tmp, cache_path());
  }
  applied_at_ = now_millis();
  Event e;
  e.kind = "policy.applied";
  e.severity = failures.empty() ? "info" : "high";
  e.outcome = failures.empty() ? "applied" : "partially-applied";
  e.details = {{"sha256", policy.sha256},
               {"sources", policy.sources},
               {"reason", reason},
               {"warnings", warnings},
               {"failures", failures},
               {"modes",
                {{"usb", to_string(policy.usb.mode)},
                 {"network", to_string(policy.network.mode)},
                 {"firmware", to_string(policy.firmware.mode)}}}};
  log_info("policy " + policy.sha256.substr(0, 12) + " applied (" + reason + ", " +
           std::to_string(policy.sources.size()) + " files)");
  for (const auto& w : warnings) log_warning(w);
  current_ = std::move(policy);
  ctx_.reporter.report(std::move(e));
  return true;
}

void PolicyManager::reject(const std::vector<std::string>& errors, const std::string& reason) {
  for (const auto& e : errors) log_error("policy rejected: " + e);
  last_rejected_ = {
      {"at", format_rfc3339_ms(now_millis())}, {"reason", reason}, {"errors", errors}};
  Event e;
  e.kind = "policy.rejected";
  e.severity = "medium";
  e.outcome = "rejected";
  e.details = {{"errors", errors},
               {"reason", reason},
               {"in_force", current_ ? current_->sha256 : std::string()}};
  ctx_.reporter.report(std::move(e));
}

nlohmann::json PolicyManager::status() const {
  nlohmann::json j = nlohmann::json::object();
  if (current_) {
    j["sha256"] = current_->sha256;
    j["sources"] = current_->sources;
    j["applied_at"] = format_rfc3339_ms(applied_at_);
  }
  if (!last_rejected_.is_null()) j["last_rejected"] = last_rejected_;
  return j;
}

}  // namespace seatlock
