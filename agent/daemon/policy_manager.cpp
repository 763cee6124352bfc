#include "daemon/policy_manager.hpp"

#include <filesystem>
#include <fstream>

#include "core/event/kinds.hpp"
#include "core/fleet/verify.hpp"
#include "daemon/fleet/local_overrides.hpp"
#include "os/base/atomic_file.hpp"
#include "os/base/log.hpp"
#include "os/base/policy_files.hpp"

namespace seatlock {

namespace {

PolicyLoadOptions load_options() {
  PolicyLoadOptions lo;
  lo.now = now_millis();
  lo.expired_is_error = false;  // a stale exception file must not block the rest of a reload
  return lo;
}

// The policy directory, loaded and validated; nullopt with `errors` filled when it is unusable.
// `fleet`: the files of the fleet bundle in force, merged in the seat's order
// (fleet::seat_merge_order).
std::optional<Policy> load_directory(const std::string& dir, std::vector<std::string>& errors,
                                     std::vector<std::string>& warnings,
                                     const std::vector<PolicyFile>& fleet = {}) {
  std::vector<PolicyFile> files;
  try {
    files = read_policy_dir(dir);
  } catch (const std::exception& e) {
    errors.push_back(e.what());
    return std::nullopt;
  }
  if (files.empty()) {
    errors.push_back(dir + ": no *.json policy files");
    return std::nullopt;
  }
  if (!fleet.empty()) files = fleet::seat_merge_order(files, fleet);
  PolicyLoadResult r = load_policy(files, load_options());
  for (const auto& w : r.warnings) warnings.push_back(w.text());
  for (const auto& e : r.errors) errors.push_back(e.text());
  return std::move(r.policy);
}

// The whole file; empty when it cannot be read.
std::string read_small_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string cache_file(const DaemonOptions& opts) {
  return opts.state_dir + "/last-good-policy.json";
}

// The cached last good policy (the merged document accept() writes); nullopt when absent or
// no longer valid.
std::optional<Policy> load_cached(const std::string& path) {
  std::string text = read_small_file(path);
  if (text.empty()) return std::nullopt;
  return std::move(load_policy({{"last-good-policy.json", text}}, load_options()).policy);
}

}  // namespace

SeatIdentity seat_identity_for(const DaemonOptions& opts, const Policy* policy) {
  if (!opts.seat_id.empty()) return local_seat_identity(opts.seat_id);
  return local_seat_identity(policy ? policy->report.seat_id : std::string());
}

StartupLoad load_policy_directory(const DaemonOptions& opts) {
  StartupLoad out;
  out.policy = load_directory(opts.policy_dir, out.errors, out.warnings);
  return out;
}

SeatIdentity resolve_seat_identity(const DaemonOptions& opts, const StartupLoad& start) {
  if (!opts.seat_id.empty() || start.policy)
    return seat_identity_for(opts, start.policy ? &*start.policy : nullptr);
  std::optional<Policy> cached = load_cached(cache_file(opts));
  return seat_identity_for(opts, cached ? &*cached : nullptr);
}

PolicyManager::PolicyManager(DaemonContext& ctx, std::vector<std::unique_ptr<Service>>& services,
                             StartupLoad start)
    : ctx_(ctx), services_(services), start_(std::move(start)) {}

std::string PolicyManager::cache_path() const {
  return cache_file(ctx_.options);
}

bool PolicyManager::reload(const std::string& reason) {
  std::vector<std::string> errors, warnings;
  std::optional<Policy> policy =
      load_directory(ctx_.options.policy_dir, errors, warnings, fleet_.files);
  if (!policy) {
    reject(errors, reason);
    return false;
  }
  return accept(std::move(*policy), warnings, reason);
}

bool PolicyManager::apply_fleet(FleetInForce fleet, Policy policy,
                                const std::vector<std::string>& warnings, const std::string& reason,
                                const nlohmann::json& extra) {
  FleetInForce before = std::move(fleet_);
  fleet_ = std::move(fleet);  // so policy.applied and the services' status name it
  if (accept(std::move(policy), warnings, reason, extra)) return true;
  fleet_ = std::move(before);
  return false;
}

bool PolicyManager::load_initial() {
  StartupLoad start = std::move(start_);
  start_ = {};
  if (!fleet_.files.empty()) {  // a restored fleet bundle joins the merge: load again with it
    if (reload("start")) return true;
  } else if (start.policy) {
    if (accept(std::move(*start.policy), start.warnings, "start")) return true;
  } else {
    reject(start.errors, "start");
  }
  std::optional<Policy> cached = load_cached(cache_path());
  if (!cached) return false;
  log_warning("policy directory rejected; enforcing the last good policy " + cached->sha256);
  return accept(std::move(*cached), {}, "start (last good policy)");
}

bool PolicyManager::accept(Policy policy, const std::vector<std::string>& warnings,
                           const std::string& reason, const nlohmann::json& rejected_extra) {
  if (ctx_.options.network_mode_override) {
    policy.network.mode = *ctx_.options.network_mode_override;
    policy.effective["network"]["mode"] = to_string(policy.network.mode);
  }
  for (auto& s : services_) {
    try {
      s->check(policy);
    } catch (const std::exception& e) {
      reject({s->name() + ": " + e.what()}, reason, rejected_extra);
      return false;
    }
  }
  // A reload that changes report.seat_id changes it for every later event (and for the
  // sender, which sets aside rows of a former id that the collector refuses).
  ctx_.reporter.set_seat(seat_identity_for(ctx_.options, &policy));
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
  // Cache the merged document (what would be re-loaded at a broken boot), atomically. At a boot
  // it is usually what the cache holds already: skip the write and its fsyncs (before READY=1).
  try {
    const std::string cached = policy.effective.dump(2) + "\n";
    atomic_write_if_changed(cache_path(), cached, 0644);
  } catch (const AtomicWriteError& e) {
    log_warning(std::string("cannot cache the applied policy: ") + e.what());
  }
  applied_at_ = now_millis();
  Event e = make_event(EventKind::PolicyApplied, failures.empty() ? Severity::Info : Severity::High,
                       failures.empty() ? Outcome::Applied : Outcome::PartiallyApplied);
  e.details = {{"sha256", policy.sha256},
               {"sources", policy.sources},
               {"reason", reason},
               {"warnings", warnings},
               {"failures", failures},
               {"modes",
                {{"usb", to_string(policy.usb.mode)},
                 {"network", to_string(policy.network.mode)},
                 {"firmware", to_string(policy.firmware.mode)}}}};
  local_overrides_ = nullptr;
  if (fleet_.version) {
    // Where local files make this seat run something the fleet did not publish (fleet status).
    local_overrides_ =
        local_overrides_json(ctx_.options.policy_dir, policy.effective, fleet_.files);
    e.details["fleet"] = {{"version", fleet_.version},
                          {"expires", format_rfc3339_ms(fleet_.expires)},
                          {"local_overrides", local_overrides_}};
  }
  log_info("policy " + policy.sha256.substr(0, 12) + " applied (" + reason + ", " +
           std::to_string(policy.sources.size()) + " files)");
  for (const auto& w : warnings) log_warning(w);
  current_ = std::move(policy);
  ctx_.reporter.report(std::move(e));
  return true;
}

void PolicyManager::reject(const std::vector<std::string>& errors, const std::string& reason,
                           const nlohmann::json& extra) {
  for (const auto& e : errors) log_error("policy rejected: " + e);
  last_rejected_ = {
      {"at", format_rfc3339_ms(now_millis())}, {"reason", reason}, {"errors", errors}};
  Event e = make_event(EventKind::PolicyRejected, Outcome::Rejected);
  e.details = {{"errors", errors},
               {"reason", reason},
               {"in_force", current_ ? current_->sha256 : std::string()}};
  for (const auto& [k, v] : extra.items()) {
    e.details[k] = v;
    last_rejected_[k] = v;
  }
  ctx_.reporter.report(std::move(e));
}

nlohmann::json PolicyManager::status() const {
  nlohmann::json j = nlohmann::json::object();
  if (current_) {
    j["sha256"] = current_->sha256;
    j["sources"] = current_->sources;
    j["applied_at"] = format_rfc3339_ms(applied_at_);
    j["modes"] = {{"usb", to_string(current_->usb.mode)},
                  {"network", to_string(current_->network.mode)},
                  {"firmware", to_string(current_->firmware.mode)}};
  }
  if (fleet_.version)
    j["fleet"] = {{"version", fleet_.version},
                  {"expires", format_rfc3339_ms(fleet_.expires)},
                  {"local_overrides", local_overrides_}};
  if (!last_rejected_.is_null()) j["last_rejected"] = last_rejected_;
  return j;
}

}  // namespace seatlock
