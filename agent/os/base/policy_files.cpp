#include "os/base/policy_files.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace seatlock {
namespace {

PolicyFile read_one(const fs::path& path, const std::string& shown_name) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string() + ": " + std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) throw std::runtime_error("cannot read " + path.string());
  return {shown_name, text.str()};
}

// Editors leave "50-site.json~", ".50-site.json.swp" and "#50-site.json#" behind: only real
// *.json files that are not hidden count.
bool is_policy_name(const fs::path& p) {
  std::string name = p.filename().string();
  return p.extension() == ".json" && !name.empty() && name[0] != '.';
}

std::string basename_of(const std::string& shown) {
  std::size_t slash = shown.rfind('/');
  return slash == std::string::npos ? shown : shown.substr(slash + 1);
}

}  // namespace

std::vector<PolicyFile> read_policy_dir(const std::string& dir) {
  std::error_code ec;
  std::vector<fs::path> names;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code type_ec;
    if (is_policy_name(entry.path()) && entry.is_regular_file(type_ec))
      names.push_back(entry.path());
  }
  if (ec) throw std::runtime_error("cannot read policy directory " + dir + ": " + ec.message());
  std::sort(names.begin(), names.end());
  std::string prefix = fs::path(dir).lexically_normal().filename().string();
  if (prefix.empty()) prefix = fs::path(dir).lexically_normal().parent_path().filename().string();
  std::vector<PolicyFile> files;
  for (const auto& p : names) files.push_back(read_one(p, prefix + "/" + p.filename().string()));
  return files;
}

std::vector<PolicyFile> read_policy_paths(const std::vector<std::string>& paths) {
  std::vector<PolicyFile> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (fs::is_directory(p, ec)) {
      auto more = read_policy_dir(p);
      files.insert(files.end(), more.begin(), more.end());
    } else {
      files.push_back(read_one(p, p));
    }
  }
  // Merge order is by file name, as if every file sat in one policy.d.
  std::stable_sort(files.begin(), files.end(), [](const PolicyFile& a, const PolicyFile& b) {
    return basename_of(a.name) < basename_of(b.name);
  });
  return files;
}

}  // namespace seatlock
