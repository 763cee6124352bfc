#include "fleet_common.hpp"

#include "tree_reader.hpp"

namespace seatlock::collector::fleet_cli {

seatlock::fleet::FleetPlan check_tree(const std::string& dir, UnixMillis now, std::ostream& out) {
  return check_fleet_tree(read_fleet_tree(dir), now, out);
}

seatlock::fleet::FleetPlan check_fleet_tree(const seatlock::fleet::FleetTree& tree, UnixMillis now,
                                            std::ostream& out) {
  auto plan = seatlock::fleet::plan_fleet(tree);
  PolicyLoadOptions options;
  options.now = now;
  options.expired_is_error = true;
  seatlock::fleet::check_fleet(plan, options);
  for (const auto& e : plan.errors) out << "error: " << e.text() << "\n";
  for (const auto& w : plan.warnings) out << "warning: " << w.text() << "\n";
  return plan;
}

std::map<std::string, nlohmann::json> effective_by_seat(
    const std::map<std::string, std::vector<PolicyFile>>& files_by_seat, UnixMillis now) {
  PolicyLoadOptions options;
  options.now = now;
  options.expired_is_error = false;  // as the seat sees it: an expired exception is left out
  std::map<std::string, nlohmann::json> out;
  std::map<std::string, nlohmann::json> by_content;  // seats with identical files merge once
  for (const auto& [seat, files] : files_by_seat) {
    std::string key;
    for (const auto& f : files) key += f.name + '\0' + f.text + '\0';
    auto it = by_content.find(key);
    if (it == by_content.end()) {
      auto r = load_policy(files, options);
      it = by_content.emplace(key, r.policy ? r.policy->effective : nlohmann::json()).first;
    }
    if (!it->second.is_null()) out[seat] = it->second;
  }
  return out;
}

}  // namespace seatlock::collector::fleet_cli
