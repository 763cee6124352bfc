#include "core/fleet/group_map.hpp"

#include <set>

#include "core/json/locator.hpp"
#include "core/policy/checker.hpp"
#include "core/policy/formats.hpp"

namespace seatlock::fleet {
namespace {

using nlohmann::json;
namespace pf = policy_format;

std::string check_glob(const std::string& s) {
  bool ok = !s.empty() && s.size() <= 64;
  for (char c : s)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
                c == '*' || c == '?');
  if (ok) return "";
  return "expected a seat-id pattern (letters, digits, '.', '_', '-', and the wildcards '*' and "
         "'?'; at most 64), got " +
         json(s).dump();
}

std::vector<std::string> strings(const json& v) {
  std::vector<std::string> out;
  if (v.is_array())
    for (const auto& s : v)
      if (s.is_string()) out.push_back(s.get<std::string>());
  return out;
}

}  // namespace

std::string check_group_name(const std::string& name) {
  std::string problem = pf::check_seat_id(name);
  if (problem.empty()) return "";
  return "expected a group name (a letter or digit, then letters, digits, '.', '_', '-'; at most "
         "64), got " +
         json(name).dump();
}

bool seat_glob_match(std::string_view p, std::string_view s) {
  // Iterative wildcard match with one backtrack point (the last '*').
  std::size_t pi = 0, si = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++pi;
      ++si;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

GroupMap parse_group_map(const PolicyFile& file, std::vector<PolicyDiagnostic>& errors) {
  GroupMap map;
  JsonLocator loc(file.text);
  json doc;
  try {
    doc = json::parse(file.text, nullptr, true, /*ignore_comments=*/true);
  } catch (const json::exception& e) {
    errors.push_back({file.name, 1, 1, "", std::string("not valid JSON: ") + e.what()});
    return map;
  }
  std::vector<PolicyDiagnostic> warnings;
  policy_check::Checker c(file.name, loc, errors, warnings);
  for (const auto& dup : loc.duplicate_keys()) c.error_at_key(dup, "duplicate key");
  if (!c.object(doc, "", {"$schema", "comment", "seats", "groups"}, {"groups"})) return map;
  if (doc.contains("seats")) {
    c.string_array(doc["seats"], "/seats", pf::check_seat_id);
    map.inventory = strings(doc["seats"]);
  }
  if (!doc.contains("groups") || !c.is_array(doc["groups"], "/groups")) return map;
  std::set<std::string> names;
  for (std::size_t i = 0; i < doc["groups"].size(); ++i) {
    const json& g = doc["groups"][i];
    const std::string ptr = "/groups/" + std::to_string(i);
    if (!c.object(g, ptr, {"name", "match", "seats", "comment"}, {"name"})) continue;
    FleetGroup group;
    // object() has already reported a missing "name"; const operator[] on a missing key is UB.
    if (g.contains("name") && c.string_format(g["name"], ptr + "/name", check_group_name)) {
      group.name = g["name"].get<std::string>();
      if (!names.insert(group.name).second)
        c.error(ptr + "/name", "group " + json(group.name).dump() + " is defined twice");
    }
    if (g.contains("match")) c.string_array(g["match"], ptr + "/match", check_glob);
    if (g.contains("seats")) c.string_array(g["seats"], ptr + "/seats", pf::check_seat_id);
    if (!g.contains("match") && !g.contains("seats"))
      c.error(ptr, "a group needs \"match\" patterns or a \"seats\" list (or both)");
    group.match = strings(g.value("match", json::array()));
    group.seats = strings(g.value("seats", json::array()));
    map.groups.push_back(std::move(group));
  }
  return map;
}

std::vector<std::string> groups_of(const GroupMap& map, const std::string& seat) {
  std::vector<std::string> out;
  for (const auto& g : map.groups) {
    bool in = false;
    for (const auto& s : g.seats) in = in || s == seat;
    for (const auto& p : g.match) in = in || seat_glob_match(p, seat);
    if (in) out.push_back(g.name);
  }
  return out;
}

}  // namespace seatlock::fleet
