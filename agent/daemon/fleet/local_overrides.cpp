#include "daemon/fleet/local_overrides.hpp"

#include "core/fleet/scope.hpp"
#include "core/fleet/verify.hpp"
#include "core/json/locator.hpp"
#include "core/util/time.hpp"
#include "os/base/policy_files.hpp"
#include "os/events/reporter.hpp"  // now_millis()

namespace seatlock {

namespace {

using nlohmann::json;

std::string base_name(const std::string& name) {
  auto slash = name.rfind('/');
  return slash == std::string::npos ? name : name.substr(slash + 1);
}

// A local file cut down to the keys only local files may set; nullopt when it sets none (or is
// not an object: then the real merge would not have loaded either).
std::optional<PolicyFile> local_only_part(const PolicyFile& f) {
  json doc = json::parse(f.text, nullptr, false, /*ignore_comments=*/true);
  if (!doc.is_object()) return std::nullopt;
  json kept = json::object();
  for (const auto& ptr : fleet::local_only_pointers()) {
    json::json_pointer p(ptr);
    try {
      if (doc.contains(p)) kept[p] = doc[p];
    } catch (const json::exception&) {  // "report": 5: not ours to judge
    }
  }
  if (kept.empty()) return std::nullopt;
  return PolicyFile{f.name, kept.dump()};
}

// Leaf pointers where `a` and `b` differ; objects are walked, anything else compared whole.
void differences(const json& a, const json& b, const std::string& at,
                 std::vector<std::string>& out) {
  if (out.size() >= kMaxLocalOverrides || a == b) return;
  if (!a.is_object() || !b.is_object()) {
    out.push_back(at.empty() ? "/" : at);
    return;
  }
  for (auto it = a.begin(); it != a.end(); ++it) {
    const std::string p = at + "/" + json_pointer_escape(it.key());
    differences(it.value(), b.contains(it.key()) ? b[it.key()] : json(), p, out);
  }
  for (auto it = b.begin(); it != b.end(); ++it)
    if (!a.contains(it.key()))
      differences(json(), it.value(), at + "/" + json_pointer_escape(it.key()), out);
}

}  // namespace

std::optional<std::vector<std::string>> local_overrides(const json& effective,
                                                        const std::vector<PolicyFile>& local,
                                                        const std::vector<PolicyFile>& fleet_files,
                                                        const PolicyLoadOptions& options) {
  std::vector<PolicyFile> reduced;
  for (const auto& f : local) {
    if (base_name(f.name).rfind("00-", 0) == 0) {
      reduced.push_back(f);  // the shipped default stays under the fleet, as in the real merge
    } else if (auto part = local_only_part(f)) {
      reduced.push_back(std::move(*part));
    }
  }
  PolicyLoadResult fleet_only = load_policy(fleet::seat_merge_order(reduced, fleet_files), options);
  if (!fleet_only.policy) return std::nullopt;
  std::vector<std::string> out;
  differences(fleet_only.policy->effective, effective, "", out);
  return out;
}

json local_overrides_json(const std::string& policy_dir, const json& effective,
                          const std::vector<PolicyFile>& fleet_files) {
  try {
    PolicyLoadOptions options;
    options.now = now_millis();
    options.expired_is_error = false;  // as the daemon loads
    auto r = local_overrides(effective, read_policy_dir(policy_dir), fleet_files, options);
    return r ? json(*r) : json();
  } catch (const std::exception&) {
    return json();
  }
}

}  // namespace seatlock
