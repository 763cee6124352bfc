#include "daemon/fleet/fleet_store.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "os/base/atomic_file.hpp"

namespace seatlock {

namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return "";
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// After a crash the file is the old or the new text, never a mix (os/base/atomic_file).
void write_durably(const fs::path& p, const std::string& text) {
  try {
    atomic_write(p.string(), text, 0600);
  } catch (const AtomicWriteError& e) {
    throw std::runtime_error(std::string("fleet store: ") + e.what());
  }
}

}  // namespace

FleetStore::FleetStore(const std::string& state_dir) : dir_(state_dir + "/fleet") {}

std::string FleetStore::bundle() const {
  return read_text(fs::path(dir_) / "bundle.json");
}

std::uint64_t FleetStore::highest_version(std::uint64_t stored_bundle_version) const {
  std::string t = read_text(fs::path(dir_) / "highest-version");
  std::uint64_t v = 0;
  try {
    v = t.empty() ? 0 : std::stoull(t);
  } catch (const std::exception&) {
    v = 0;  // unreadable: the stored bundle's version still bounds it below
  }
  return std::max(v, stored_bundle_version);
}

UnixMillis FleetStore::saved_at() const {
  std::error_code ec;
  auto t = fs::last_write_time(fs::path(dir_) / "bundle.json", ec);
  if (ec) return 0;
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::file_clock::to_sys(t).time_since_epoch())
      .count();
}

void FleetStore::save(const std::string& document, std::uint64_t version) {
  std::error_code ec;
  fs::create_directories(dir_, ec);
  if (ec) throw std::runtime_error("fleet store: cannot create " + dir_ + ": " + ec.message());
  write_durably(fs::path(dir_) / "bundle.json", document);
  write_durably(fs::path(dir_) / "highest-version", std::to_string(version) + "\n");
}

}  // namespace seatlock
