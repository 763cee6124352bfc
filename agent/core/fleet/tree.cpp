#include "core/fleet/tree.hpp"

#include <algorithm>
#include <set>

#include "core/fleet/scope.hpp"
#include "core/policy/formats.hpp"

namespace seatlock::fleet {
namespace {

void append(std::vector<PolicyFile>& to, const std::vector<PolicyFile>& from) {
  to.insert(to.end(), from.begin(), from.end());
}

std::string key_of(const PolicyDiagnostic& d) {
  return d.file + '\n' + std::to_string(d.line) + '\n' + std::to_string(d.column) + '\n' +
         d.pointer + '\n' + d.message;
}

// Adds `d` for `seat`, merging it with an identical diagnostic already found for other seats.
class Collector {
 public:
  explicit Collector(std::vector<FleetDiagnostic>& out) : out_(out) {}
  void add(const PolicyDiagnostic& d, const std::vector<std::string>& seats) {
    auto [it, fresh] = index_.emplace(key_of(d), out_.size());
    if (fresh) out_.push_back({d, {}});
    auto& list = out_[it->second].seats;
    list.insert(list.end(), seats.begin(), seats.end());
  }

 private:
  std::vector<FleetDiagnostic>& out_;
  std::map<std::string, std::size_t> index_;
};

}  // namespace

std::string FleetDiagnostic::text() const {
  std::string t = where.text();
  if (seats.empty()) return t;
  std::vector<std::string> s = seats;
  std::sort(s.begin(), s.end());
  t += s.size() == 1 ? " (seat " : " (seats ";
  for (std::size_t i = 0; i < s.size() && i < 3; ++i) t += (i ? ", " : "") + s[i];
  if (s.size() > 3) t += " and " + std::to_string(s.size() - 3) + " more";
  return t + ")";
}

FleetPlan plan_fleet(const FleetTree& tree) {
  FleetPlan plan;
  std::vector<PolicyDiagnostic> errors;
  plan.map = parse_group_map(tree.groups_file, errors);
  for (auto& e : errors) plan.errors.push_back({e, {}});

  std::set<std::string> defined, ids(plan.map.inventory.begin(), plan.map.inventory.end());
  for (const auto& g : plan.map.groups) {
    defined.insert(g.name);
    ids.insert(g.seats.begin(), g.seats.end());
  }
  for (const auto& [dir, files] : tree.groups)
    if (!defined.count(dir))
      plan.errors.push_back({{"groups/" + dir, 0, 0, "",
                              "no group of this name in groups.json; its files would reach no "
                              "seat (add the group, or remove the directory)"},
                             {}});
  for (const auto& [dir, files] : tree.seats) {
    std::string problem = policy_format::check_seat_id(dir);
    if (problem.empty())
      ids.insert(dir);
    else
      plan.errors.push_back({{"seats/" + dir, 0, 0, "", problem}, {}});
  }

  std::set<std::string> used;
  for (const auto& id : ids) {
    SeatFiles s;
    s.seat = id;
    s.groups = groups_of(plan.map, id);
    append(s.files, tree.all);
    for (const auto& g : s.groups) {
      used.insert(g);
      if (auto it = tree.groups.find(g); it != tree.groups.end()) append(s.files, it->second);
    }
    if (auto it = tree.seats.find(id); it != tree.seats.end()) append(s.files, it->second);
    plan.seats.push_back(std::move(s));
  }
  for (const auto& g : plan.map.groups)
    if (!used.count(g.name))
      plan.warnings.push_back(
          {{"groups.json", 0, 0, "", "group " + g.name + " matches no known seat"}, {}});
  return plan;
}

void check_fleet(FleetPlan& plan, const PolicyLoadOptions& options) {
  Collector errors(plan.errors), warnings(plan.warnings);
  // Every file once for the fleet-only rules.
  std::set<std::string> scoped;
  for (const auto& s : plan.seats)
    for (const auto& f : s.files)
      if (scoped.insert(f.name).second) {
        std::vector<PolicyDiagnostic> found;
        check_fleet_scope(f, found);
        for (auto& d : found) errors.add(d, {});
      }
  // Seats with the same list of files merge identically: validate each distinct list once.
  std::map<std::vector<std::string>, std::vector<std::string>> seats_by_list;
  std::map<std::vector<std::string>, const SeatFiles*> sample;
  for (const auto& s : plan.seats) {
    std::vector<std::string> names;
    for (const auto& f : s.files) names.push_back(f.name);
    seats_by_list[names].push_back(s.seat);
    sample.emplace(names, &s);
  }
  for (const auto& [names, seats] : seats_by_list) {
    if (names.empty()) {
      for (const auto& seat : seats)
        warnings.add({"", 0, 0, "", "no fleet files reach this seat; it keeps its local policy"},
                     {seat});
      continue;
    }
    PolicyLoadResult r = load_policy(sample[names]->files, options);
    for (const auto& e : r.errors) errors.add(e, seats);
    for (const auto& w : r.warnings) warnings.add(w, seats);
  }
}

}  // namespace seatlock::fleet
