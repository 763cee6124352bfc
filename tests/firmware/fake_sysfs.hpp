#pragma once
// A fake /sys for firmware tests: a temp directory holding class/firmware-attributes (copied
// from the real captures in fixtures/), authentication entries, efivars and DMI files. The test
// plays the kernel's part by writing plain files.
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace seatlock::test {

namespace fs = std::filesystem;

inline std::string fixtures_dir() {
  return std::string(SEATLOCK_SOURCE_DIR) + "/tests/firmware/fixtures";
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "seatlock-fw-XXXXXX").string();
    if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed");
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }
  std::string str() const { return path_.string(); }

 private:
  fs::path path_;
};

inline void write_text(const fs::path& p, const std::string& content) {
  fs::create_directories(p.parent_path());
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + p.string());
}

class FakeSysfs {
 public:
  FakeSysfs() { fs::create_directories(root() / "class"); }
  std::string str() const { return dir_.str(); }
  fs::path root() const { return dir_.path(); }

  // Copies fixtures/<machine>/<driver> to class/firmware-attributes/<driver>.
  FakeSysfs& capture(const std::string& machine, const std::string& driver) {
    fs::path dst = attrs_root() / driver;
    fs::create_directories(dst);
    fs::copy(fs::path(fixtures_dir()) / machine / driver, dst, fs::copy_options::recursive);
    for (auto& e : fs::recursive_directory_iterator(dst))
      fs::permissions(e.path(), fs::perms::owner_write, fs::perm_options::add);
    return *this;
  }
  FakeSysfs& setting(const std::string& driver, const std::string& name, const std::string& value,
                     const std::string& possible = "") {
    fs::path d = attrs_root() / driver / "attributes" / name;
    write_text(d / "current_value", value + "\n");
    if (!possible.empty()) write_text(d / "possible_values", possible + "\n");
    return *this;
  }
  FakeSysfs& remove_setting(const std::string& driver, const std::string& name) {
    fs::remove_all(attrs_root() / driver / "attributes" / name);
    return *this;
  }
  FakeSysfs& auth(const std::string& driver, const std::string& name, const std::string& role,
                  bool enabled) {
    fs::path d = attrs_root() / driver / "authentication" / name;
    write_text(d / "role", role + "\n");
    write_text(d / "is_enabled", enabled ? "1\n" : "0\n");
    write_text(d / "mechanism", "password\n");
    return *this;
  }
  // SecureBoot/SetupMode efivars: 4 attribute bytes (NV|BS|RT = 0x06 for these) + value.
  FakeSysfs& efi(bool secure_boot, bool setup_mode) {
    efivar("SecureBoot", secure_boot ? 1 : 0);
    efivar("SetupMode", setup_mode ? 1 : 0);
    return *this;
  }
  FakeSysfs& efivar(const std::string& name, int value) {
    std::string bytes = {'\x06', '\0', '\0', '\0', static_cast<char>(value)};
    write_text(root() / "firmware/efi/efivars" / (name + "-8be4df61-93ca-11d2-aa0d-00e098032b8c"),
               bytes);
    return *this;
  }
  FakeSysfs& dmi(const std::string& field, const std::string& value) {
    write_text(root() / "class/dmi/id" / field, value + "\n");
    return *this;
  }
  FakeSysfs& dmi_machine(const std::string& vendor, const std::string& product,
                         const std::string& bios_version, const std::string& bios_date,
                         const std::string& board_serial, const std::string& uuid) {
    return dmi("sys_vendor", vendor)
        .dmi("product_name", product)
        .dmi("bios_vendor", vendor)
        .dmi("bios_version", bios_version)
        .dmi("bios_date", bios_date)
        .dmi("board_serial", board_serial)
        .dmi("product_serial", board_serial + "-P")
        .dmi("product_uuid", uuid);
  }

 private:
  fs::path attrs_root() const { return root() / "class/firmware-attributes"; }
  TempDir dir_;
};

// keygen prints the public key alone on stdout (its hint goes to stderr; run_command merges both).
inline std::string pubkey_line(const std::string& out) {
  size_t start = 0;
  while (start < out.size()) {
    size_t end = out.find('\n', start);
    std::string line =
        out.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (line.size() == 44 && line.back() == '=' && line.find(' ') == std::string::npos) return line;
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return "";
}

// The machines of the issue, on top of the real captures.
// Dell XPS 13 9310 as IT set it up: admin password, USB boot and external USB ports off.
inline void make_dell_locked(FakeSysfs& f) {
  f.capture("dell-xps13-9310", "dell-wmi-sysman")
      .auth("dell-wmi-sysman", "Admin", "bios-admin", true)
      .auth("dell-wmi-sysman", "System", "power-on", false)
      .setting("dell-wmi-sysman", "UsbEmu", "Disabled")
      .setting("dell-wmi-sysman", "UsbPortsExternal", "Disabled")
      .efi(true, false)
      .dmi_machine("Dell Inc.", "XPS 13 9310", "3.2.0", "05/06/2021", "/7XK9F93/CNCMK0011J0068/",
                   "4c4c4544-0058-4b10-8039-b7c04f463933");
}

// The same Dell after a CMOS reset: password gone, settings back to the captured defaults.
inline void make_dell_cmos_reset(FakeSysfs& f) {
  f.capture("dell-xps13-9310", "dell-wmi-sysman")
      .auth("dell-wmi-sysman", "Admin", "bios-admin", false)
      .auth("dell-wmi-sysman", "System", "power-on", false)
      .efi(true, false)
      .dmi_machine("Dell Inc.", "XPS 13 9310", "3.2.0", "05/06/2021", "/7XK9F93/CNCMK0011J0068/",
                   "4c4c4544-0058-4b10-8039-b7c04f463933");
}

}  // namespace seatlock::test
