#include "usbd/policy_source.hpp"

#include <fstream>
#include <iterator>

#include "core/policy/loader.hpp"
#include "os/base/atomic_file.hpp"
#include "os/base/clock.hpp"
#include "os/base/log.hpp"
#include "os/base/policy_files.hpp"

namespace seatlock {
namespace {

PolicyLoadOptions load_options() {
  PolicyLoadOptions lo;
  lo.now = now_millis();
  lo.expired_is_error = false;  // as seatlockd: a stale exception is left out, not fatal
  return lo;
}

std::optional<Policy> load_file(const std::string& path, const std::string& name) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  PolicyLoadResult r = load_policy({{name, text}}, load_options());
  for (const auto& e : r.errors) log_warning(path + ": " + e.text());
  return std::move(r.policy);
}

}  // namespace

std::string handed_policy_path(const std::string& state_dir) {
  return state_dir + "/usbd-policy.json";
}

std::optional<Policy> policy_from_document(const std::string& text, std::string& error) {
  PolicyLoadResult r = load_policy({{"handed policy", text}}, load_options());
  for (const auto& e : r.errors) error += (error.empty() ? "" : "; ") + e.text();
  return std::move(r.policy);
}

void save_handed_policy(const std::string& state_dir, const Policy& policy) {
  // seatlockd hands the same policy at each of its starts: no rewrite (and fsyncs) then.
  atomic_write_if_changed(handed_policy_path(state_dir), policy.effective.dump(1) + "\n", 0600);
}

StartupPolicy load_startup_policy(const std::string& state_dir, const std::string& policy_dir) {
  if (auto p = load_file(handed_policy_path(state_dir), "usbd-policy.json"))
    return {std::move(*p), "handed"};
  try {
    std::vector<PolicyFile> files = read_policy_dir(policy_dir);
    if (!files.empty()) {
      PolicyLoadResult r = load_policy(files, load_options());
      for (const auto& w : r.warnings) log_warning(w.text());
      for (const auto& e : r.errors) log_error(e.text());
      if (r.policy) return {std::move(*r.policy), "policy directory"};
    } else {
      log_warning(policy_dir + ": no *.json policy files");
    }
  } catch (const std::exception& e) {
    log_warning(e.what());
  }
  if (auto p = load_file(state_dir + "/last-good-policy.json", "last-good-policy.json"))
    return {std::move(*p), "last good policy"};
  // No usable policy anywhere: lock the seat, leaving it usable enough to log in and fix it.
  Policy p;
  p.usb.mode = Mode::Enforce;
  p.usb.allow_classes = {"hub", "hid"};
  return {std::move(p), "built-in"};
}

}  // namespace seatlock
