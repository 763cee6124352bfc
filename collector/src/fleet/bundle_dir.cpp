#include "bundle_dir.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "os/base/atomic_file.hpp"

namespace fs = std::filesystem;

namespace seatlock::collector::fleet_cli {
namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::uint64_t read_number(const fs::path& p) {
  std::string t = read_text(p);
  try {
    return t.empty() ? 0 : std::stoull(t);
  } catch (const std::exception&) {
    throw std::runtime_error(p.string() + ": expected a version number, got \"" + t + "\"");
  }
}

// Bundles are public (signed) documents: 0644 as before.
void write_durably(const fs::path& p, const std::string& text) {
  atomic_write(p.string(), text, 0644);
}

}  // namespace

std::uint64_t bundle_version_of(const std::string& document) {
  auto j = nlohmann::json::parse(document, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("bundle") || !j["bundle"].is_object())
    return 0;
  const auto& v = j["bundle"]["version"];
  return v.is_number_unsigned() ? v.get<std::uint64_t>() : 0;
}

void BundleDir::lock_for_publish() {
  fs::create_directories(path_);
  lock_fd_ = ::open((fs::path(path_) / ".lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd_ < 0 || ::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0)
    throw std::runtime_error(path_ + ": another fleet publish is running (" + std::strerror(errno) +
                             ")");
}

BundleDir::~BundleDir() {
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

std::uint64_t BundleDir::reserved_version() const {
  return read_number(fs::path(path_) / "version");
}
std::uint64_t BundleDir::current_version() const {
  return read_number(fs::path(path_) / "current");
}

void BundleDir::reserve(std::uint64_t v) {
  write_durably(fs::path(path_) / "version", std::to_string(v) + "\n");
}

void BundleDir::publish(std::uint64_t v, const std::map<std::string, std::string>& bundles) {
  const fs::path root(path_);
  const std::string name = "published-" + std::to_string(v) + ".ndjson";
  std::string text;
  for (const auto& [seat, doc] : bundles) text += doc + "\n";
  write_durably(root / name, text);
  write_durably(root / "current", std::to_string(v) + "\n");
  for (const auto& e : fs::directory_iterator(root)) {
    std::string n = e.path().filename().string();
    if (n.rfind("published-", 0) == 0 && n != name) fs::remove(e.path());  // superseded
  }
}

std::map<std::string, PublishedBundle> BundleDir::read_all() const {
  std::map<std::string, PublishedBundle> out;
  std::uint64_t v = current_version();
  if (v == 0) return out;
  const fs::path file = fs::path(path_) / ("published-" + std::to_string(v) + ".ndjson");
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("bundle") || !j["bundle"].is_object() ||
        !j["bundle"].contains("seat") || !j["bundle"]["seat"].is_string())
      throw std::runtime_error(file.string() + ": a line that is not a bundle");
    out[j["bundle"]["seat"].get<std::string>()] = {bundle_version_of(line), line};
  }
  return out;
}

}  // namespace seatlock::collector::fleet_cli
