#include "tree_edit.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "fleet_common.hpp"
#include "os/base/atomic_file.hpp"
#include "tree_reader.hpp"

namespace fs = std::filesystem;

namespace seatlock::collector::fleet_cli {

namespace {

// "groups/floor-2/x.json" -> {"groups", "floor-2", "x.json"}; "all/x.json" -> {"all", "", ...}.
struct RelPath {
  std::string top, dir, file;
};

RelPath split(const std::string& rel) {
  RelPath p;
  auto a = rel.find('/');
  if (a == std::string::npos) throw std::logic_error("tree path without a directory: " + rel);
  p.top = rel.substr(0, a);
  auto b = rel.find('/', a + 1);
  if (p.top == "all") {
    p.file = rel.substr(a + 1);
  } else {
    if (b == std::string::npos) throw std::logic_error("tree path too short: " + rel);
    p.dir = rel.substr(a + 1, b - a - 1);
    p.file = rel.substr(b + 1);
  }
  if (p.file.empty() || p.file.find('/') != std::string::npos)
    throw std::logic_error("bad tree path: " + rel);
  return p;
}

}  // namespace

TreeEdit::TreeEdit(std::string dir) : dir_(std::move(dir)), tree_(read_fleet_tree(dir_)) {}

std::vector<PolicyFile>* TreeEdit::list_for(const std::string& rel, bool create) {
  RelPath p = split(rel);
  if (p.top == "all") return &tree_.all;
  auto& m = p.top == "groups" ? tree_.groups : tree_.seats;
  if (p.top != "groups" && p.top != "seats") throw std::logic_error("bad tree path: " + rel);
  auto it = m.find(p.dir);
  if (it == m.end()) {
    if (!create) return nullptr;
    it = m.emplace(p.dir, std::vector<PolicyFile>{}).first;
  }
  return &it->second;
}

std::optional<std::string> TreeEdit::text_of(const std::string& rel) const {
  auto* self = const_cast<TreeEdit*>(this);
  auto* list = self->list_for(rel, false);
  if (!list) return std::nullopt;
  for (const auto& f : *list)
    if (f.name == rel) return f.text;
  return std::nullopt;
}

void TreeEdit::write(const std::string& rel, std::string text) {
  auto* list = list_for(rel, true);
  auto it = std::find_if(list->begin(), list->end(), [&](const auto& f) { return f.name == rel; });
  if (it != list->end()) {
    it->text = text;
  } else {
    list->push_back({rel, text});
    std::sort(list->begin(), list->end(),
              [](const PolicyFile& a, const PolicyFile& b) { return a.name < b.name; });
  }
  changes_[rel] = std::move(text);
}

void TreeEdit::remove(const std::string& rel) {
  auto* list = list_for(rel, false);
  if (!list) return;
  list->erase(
      std::remove_if(list->begin(), list->end(), [&](const auto& f) { return f.name == rel; }),
      list->end());
  changes_[rel] = std::nullopt;
}

seatlock::fleet::FleetPlan TreeEdit::check(UnixMillis now, std::ostream& out) const {
  return check_fleet_tree(tree_, now, out);
}

void TreeEdit::commit() {
  for (const auto& [rel, text] : changes_) {
    fs::path path = fs::path(dir_) / rel;
    std::optional<std::string> before;
    if (fs::exists(path)) {
      std::ifstream in(path, std::ios::binary);
      std::ostringstream s;
      s << in.rdbuf();
      before = s.str();
    }
    previous_.emplace(rel, before);
    if (text) {
      fs::create_directories(path.parent_path());
      atomic_write(path.string(), *text, 0644);
    } else if (before) {
      fs::remove(path);
    }
  }
}

void TreeEdit::rollback() {
  for (const auto& [rel, before] : previous_) {
    fs::path path = fs::path(dir_) / rel;
    if (before)
      atomic_write(path.string(), *before, 0644);
    else
      fs::remove(path);
  }
  previous_.clear();
}

}  // namespace seatlock::collector::fleet_cli
