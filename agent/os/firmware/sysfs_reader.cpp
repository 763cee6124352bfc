#include "os/firmware/sysfs_reader.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "core/firmware/values.hpp"

namespace fs = std::filesystem;

namespace seatlock::firmware {
namespace {

// Whole file as bytes; nullopt when absent. A file that exists but cannot be read (e.g. a
// root-only DMI serial read by a normal user) is noted in `errors`.
std::optional<std::string> slurp(const fs::path& p, std::vector<std::string>& errors) {
  std::error_code ec;
  if (!fs::exists(p, ec)) return std::nullopt;
  std::ifstream in(p, std::ios::binary);
  if (!in) {
    errors.push_back(p.string() + ": " + std::strerror(errno));
    return std::nullopt;
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string text(const fs::path& p, std::vector<std::string>& errors) {
  return slurp(p, errors).value_or("");
}

std::vector<fs::path> subdirs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) out.push_back(it->path());
  std::sort(out.begin(), out.end());
  return out;
}

RawInterface read_interface(const fs::path& dir, std::vector<std::string>& errors) {
  RawInterface itf;
  itf.driver = dir.filename().string();
  for (const auto& d : subdirs(dir / "attributes")) {
    RawSetting s;
    auto current = slurp(d / "current_value", errors);
    if (!current) continue;  // not a setting (or unreadable; noted)
    s.current_value = *current;
    s.possible_values = text(d / "possible_values", errors);
    s.type = trim(text(d / "type", errors));
    itf.settings[d.filename().string()] = std::move(s);
  }
  for (const auto& d : subdirs(dir / "authentication")) {
    RawAuth a;
    a.role = trim(text(d / "role", errors));
    a.is_enabled = text(d / "is_enabled", errors);
    a.mechanism = trim(text(d / "mechanism", errors));
    itf.auth[d.filename().string()] = std::move(a);
  }
  return itf;
}

}  // namespace

Snapshot read_snapshot(const std::string& sysfs_root) {
  Snapshot s;
  const fs::path root(sysfs_root);
  for (const auto& d : subdirs(root / "class" / "firmware-attributes"))
    s.interfaces.push_back(read_interface(d, s.read_errors));

  const fs::path efivars = root / "firmware" / "efi" / "efivars";
  s.secure_boot_var = slurp(efivars / (std::string("SecureBoot-") + kEfiGlobalGuid), s.read_errors);
  s.setup_mode_var = slurp(efivars / (std::string("SetupMode-") + kEfiGlobalGuid), s.read_errors);

  for (const char* f : kDmiFields)
    if (auto v = slurp(root / "class" / "dmi" / "id" / f, s.read_errors)) s.dmi[f] = trim(*v);
  return s;
}

}  // namespace seatlock::firmware
