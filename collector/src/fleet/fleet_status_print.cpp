// fleet status: the command, the table for people (problems first) and the JSON for scripts.
#include <algorithm>
#include <cstdio>

#include "../output.hpp"
#include "../store_open.hpp"
#include "core/fleet/group_map.hpp"
#include "core/util/args.hpp"
#include "fleet_status.hpp"
#include "tree_reader.hpp"

namespace seatlock::collector::fleet_cli {

namespace {

using nlohmann::json;

constexpr const char* kDefaultBundles = "/var/lib/seatlock-collector/bundles";

// What the seat's internet is: the fleet's closure while it is in force; else the seat's own
// word when its latest event says closed (`seatlockctl net close` on the seat).
std::string internet(const SeatFleetStatus& r) {
  if (r.published && r.published->closed) return "closed";
  if (r.seat_net == "closed") return "closed (seat)";
  return "open";
}

std::string grants_cell(const SeatFleetStatus& r) {
  if (!r.published || r.published->grants.empty()) return "-";
  const auto& g = r.published->grants;
  std::string first = g.front().ticket.empty() ? g.front().section : g.front().ticket;
  return g.size() == 1 ? first : first + ",+" + std::to_string(g.size() - 1);
}

std::size_t rank(const SeatFleetStatus& r) {
  if (r.flags.empty()) return kFlagOrder.size();
  return std::find(kFlagOrder.begin(), kFlagOrder.end(), r.flags.front()) - kFlagOrder.begin();
}

std::string joined(const json& list, const std::string& sep) {
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : sep) + s.get<std::string>();
  return out;
}

// --group NAME: the seats groups.json of the tree puts in it (the same rule as publish).
std::set<std::string> group_seats(const std::string& tree_dir, const std::string& group,
                                  const std::map<std::string, PublishedBundle>& bundles,
                                  EventStore& store) {
  seatlock::fleet::FleetTree tree = read_fleet_tree(tree_dir);
  std::vector<PolicyDiagnostic> errors;
  auto map = seatlock::fleet::parse_group_map(tree.groups_file, errors);
  if (!errors.empty()) throw std::runtime_error(errors.front().text());
  if (std::none_of(map.groups.begin(), map.groups.end(),
                   [&](const seatlock::fleet::FleetGroup& g) { return g.name == group; }))
    throw UsageError("--group: no group \"" + group + "\" in " + tree_dir + "/groups.json");
  std::set<std::string> candidates;  // every seat the fleet or the store knows
  for (const auto& [seat, b] : bundles) candidates.insert(seat);
  for (const auto& s : store.seats()) candidates.insert(s.seat_id);
  for (const auto& g : map.groups) candidates.insert(g.seats.begin(), g.seats.end());
  std::set<std::string> out;
  for (const auto& seat : candidates) {
    auto groups = seatlock::fleet::groups_of(map, seat);
    if (std::find(groups.begin(), groups.end(), group) != groups.end()) out.insert(seat);
  }
  return out;
}

}  // namespace

json fleet_status_json(const FleetStatus& st, UnixMillis now) {
  json seats = json::array();
  for (const auto& r : st.seats) {
    json published, grants = json::array(), closure;
    if (r.published) {
      const PublishedState& p = *r.published;
      published = {{"version", p.version},
                   {"issued", format_rfc3339_ms(p.issued)},
                   {"expires", format_rfc3339_ms(p.expires)}};
      for (const auto& g : p.grants)
        grants.push_back({{"section", g.section},
                          {"ticket", g.ticket},
                          {"until", g.until ? json(format_rfc3339_ms(g.until)) : json()},
                          {"entry", g.entry}});
      if (!p.closure.is_null()) {
        closure = p.closure;
        closure["in_force"] = p.closed;
      }
    }
    seats.push_back(
        {{"seat", r.seat},
         {"published", published},
         {"acknowledged",
          r.acked ? json{{"version", r.acked}, {"at", format_rfc3339_ms(r.acked_at)}} : json()},
         {"refused", r.refused},
         {"internet", internet(r)},
         {"closure", closure},
         {"seat_network", r.seat_net.empty() ? json()
                                             : json{{"state", r.seat_net},
                                                    {"at", format_rfc3339_ms(r.seat_net_at)}}},
         {"grants", grants},
         {"last_seen", r.last_seen ? json(format_rfc3339_ms(r.last_seen)) : json()},
         {"silent", r.silent},
         {"violations_24h", r.violations_24h},
         {"local_overrides", r.local_overrides},
         {"flags", r.flags}});
  }
  return {{"generated", format_rfc3339_ms(now)},
          {"published_version", st.published_version},
          {"seats", seats}};
}

void print_fleet_status(const FleetStatus& st, std::ostream& out) {
  std::vector<const SeatFleetStatus*> order;
  for (const auto& r : st.seats) order.push_back(&r);
  std::stable_sort(order.begin(), order.end(),
                   [](const auto* a, const auto* b) { return rank(*a) < rank(*b); });
  char buf[512];
  std::snprintf(buf, sizeof buf, "%-18s %9s %5s %-24s %-13s %-12s %-24s %8s %s\n", "SEAT",
                "PUBLISHED", "ACKED", "ACKED AT", "INTERNET", "GRANTS", "LAST SEEN", "VIOL/24H",
                "FLAGS");
  out << buf;
  std::map<std::string, std::size_t> counts;
  for (const SeatFleetStatus* r : order) {
    std::string flags;
    for (const auto& f : r->flags) {
      flags += (flags.empty() ? "" : ",") + f;
      ++counts[f];
    }
    std::snprintf(
        buf, sizeof buf, "%-18s %9s %5s %-24s %-13s %-12s %-24s %8llu %s\n", r->seat.c_str(),
        r->published ? std::to_string(r->published->version).c_str() : "-",
        r->acked ? std::to_string(r->acked).c_str() : "-", format_time(r->acked_at).c_str(),
        internet(*r).c_str(), grants_cell(*r).c_str(),
        r->seen ? format_time(r->last_seen).c_str() : "never",
        static_cast<unsigned long long>(r->violations_24h), flags.empty() ? "ok" : flags.c_str());
    out << buf;
    if (!r->refused.is_null())
      out << "    refused bundle " << r->refused["version"].get<std::uint64_t>() << ": "
          << r->refused["refusal"].get<std::string>() << " at "
          << r->refused["at"].get<std::string>() << "\n";
    if (r->local_overrides.is_array() && !r->local_overrides.empty())
      out << "    local files override the fleet at " << joined(r->local_overrides, ", ") << "\n";
  }
  std::string summary;
  for (const auto& f : kFlagOrder)
    if (counts.count(f)) summary += ", " + std::to_string(counts[f]) + " " + f;
  std::size_t ok = std::count_if(st.seats.begin(), st.seats.end(),
                                 [](const SeatFleetStatus& r) { return r.flags.empty(); });
  out << "(" << st.seats.size() << " seat" << (st.seats.size() == 1 ? "" : "s")
      << ", published version " << st.published_version << ": " << ok << " ok" << summary << ")\n";
}

int fleet_status(const ArgList& argv, UnixMillis now, std::ostream& out) {
  auto names = store_option_names();
  names.insert({"bundles", "tree", "group", "silent-after", "heartbeat"});
  ArgParser a(argv, names, {"json"});
  FleetStatusOptions opt;
  opt.now = now;
  opt.silent_after = a.number("silent-after").value_or(3);
  if (opt.silent_after == 0) throw UsageError("--silent-after must be at least 1");
  if (auto h = a.get("heartbeat")) {
    auto ms = parse_duration_ms(*h);
    if (!ms || *ms <= 0)
      throw UsageError("--heartbeat: expected a duration like 60s or 5m, got \"" + *h + "\"");
    opt.default_heartbeat_ms = *ms;
  }
  if (a.get("group") && !a.get("tree"))
    throw UsageError("--group needs --tree DIR (its groups.json says which seats are in it)");
  BundleDir dir(a.get("bundles").value_or(kDefaultBundles));
  auto bundles = dir.read_all();
  auto store = open_store(store_spec(a), false);
  if (auto g = a.get("group")) opt.only = group_seats(a.require("tree"), *g, bundles, *store);
  FleetStatus st = gather_fleet_status(*store, bundles, dir.current_version(), opt);
  if (a.has("json"))
    out << fleet_status_json(st, now).dump(2) << "\n";
  else
    print_fleet_status(st, out);
  return 0;
}

}  // namespace seatlock::collector::fleet_cli
