#include "tree_reader.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace seatlock::collector::fleet_cli {
namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

bool hidden(const fs::path& p) {
  std::string n = p.filename().string();
  return n.empty() || n[0] == '.';
}

// *.json files directly in `dir`, named "<shown>/<file>", in name order.
std::vector<PolicyFile> read_json_dir(const fs::path& dir, const std::string& shown) {
  std::vector<fs::path> paths;
  for (const auto& e : fs::directory_iterator(dir))
    if (!hidden(e.path()) && e.path().extension() == ".json" && e.is_regular_file())
      paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  std::vector<PolicyFile> files;
  for (const auto& p : paths) files.push_back({shown + "/" + p.filename().string(), read_text(p)});
  return files;
}

std::map<std::string, std::vector<PolicyFile>> read_subdirs(const fs::path& dir,
                                                            const std::string& shown) {
  std::map<std::string, std::vector<PolicyFile>> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (hidden(e.path())) continue;
    std::string name = e.path().filename().string();
    if (!e.is_directory())
      throw std::runtime_error(e.path().string() + ": expected only directories in " + shown +
                               "/ (one per " + (shown == "groups" ? "group" : "seat") + ")");
    out[name] = read_json_dir(e.path(), shown + "/" + name);
  }
  return out;
}

}  // namespace

seatlock::fleet::FleetTree read_fleet_tree(const std::string& dir) {
  fs::path root(dir);
  if (!fs::is_directory(root)) throw std::runtime_error(dir + ": not a directory");
  for (const auto& e : fs::directory_iterator(root)) {
    std::string n = e.path().filename().string();
    if (hidden(e.path()) || n == "groups.json" || n == "all" || n == "groups" || n == "seats" ||
        (e.is_regular_file() && e.path().extension() != ".json"))
      continue;  // README.md and the like are fine
    throw std::runtime_error(e.path().string() +
                             ": not part of a fleet tree (groups.json, all/, groups/<name>/, "
                             "seats/<id>/)");
  }
  seatlock::fleet::FleetTree tree;
  if (!fs::exists(root / "groups.json"))
    throw std::runtime_error(dir + ": no groups.json (it maps seats to groups)");
  tree.groups_file = {"groups.json", read_text(root / "groups.json")};
  if (fs::exists(root / "all")) tree.all = read_json_dir(root / "all", "all");
  tree.groups = read_subdirs(root / "groups", "groups");
  tree.seats = read_subdirs(root / "seats", "seats");
  return tree;
}

}  // namespace seatlock::collector::fleet_cli
