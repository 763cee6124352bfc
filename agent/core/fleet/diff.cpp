#include "core/fleet/diff.hpp"

#include <map>

namespace seatlock::fleet {

using nlohmann::json;

namespace {

std::vector<std::string> describe(const json& before, const json& after) {
  std::vector<std::string> lines;
  std::map<std::string, std::size_t> appended;  // array pointer -> elements added at its end
  for (const auto& op : json::diff(before, after)) {
    std::string path = op["path"].get<std::string>();
    // json::diff adds to the end of an array as ".../-": show the index the element gets.
    if (path.size() >= 2 && path.compare(path.size() - 2, 2, "/-") == 0) {
      std::string parent = path.substr(0, path.size() - 2);
      json::json_pointer pp(parent);
      std::size_t base = before.contains(pp) ? before.at(pp).size() : 0;
      path = parent + "/" + std::to_string(base + appended[parent]++);
    }
    const std::string what = op["op"].get<std::string>();
    json::json_pointer ptr(path);
    if (what == "add")
      lines.push_back("+ " + path + ": " + op["value"].dump());
    else if (what == "remove")
      lines.push_back("- " + path + ": " + before.at(ptr).dump());
    else  // replace
      lines.push_back("~ " + path + ": " + before.at(ptr).dump() + " -> " + op["value"].dump());
  }
  return lines;
}

}  // namespace

std::vector<SeatChange> diff_fleet(const std::map<std::string, json>& before,
                                   const std::map<std::string, json>& after) {
  std::vector<SeatChange> out;
  auto b = before.begin();
  auto a = after.begin();
  while (b != before.end() || a != after.end()) {
    if (a == after.end() || (b != before.end() && b->first < a->first)) {
      out.push_back({b->first, "removed", {}});
      ++b;
    } else if (b == before.end() || a->first < b->first) {
      out.push_back({a->first, "added", describe(json::object(), a->second)});
      ++a;
    } else {
      if (a->second != b->second)
        out.push_back({a->first, "changed", describe(b->second, a->second)});
      ++a;
      ++b;
    }
  }
  return out;
}

}  // namespace seatlock::fleet
