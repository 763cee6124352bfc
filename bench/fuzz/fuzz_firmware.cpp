// Firmware attestation: what the firmware-attributes drivers, efivarfs and DMI expose (vendor
// controlled text and bytes), through the parsers and judgement of agent/core/firmware (values,
// checks, attest, baseline) and, for every fourth input, through the sysfs reader
// (agent/os/firmware/sysfs_reader.hpp) from a fake tree on tmpfs. The last piece is also read
// as a baseline document (verify_baseline), a file IT ships to seats.
// Invariants: normalising is idempotent; the reader returns what the tree holds; one check
// result per known check; a snapshot's own baseline matches it without drift.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/firmware/attestation.hpp"
#include "core/firmware/baseline.hpp"
#include "core/firmware/checks.hpp"
#include "core/firmware/values.hpp"
#include "fuzz_support.hpp"
#include "os/firmware/sysfs_reader.hpp"

namespace fs = std::filesystem;
namespace fw = seatlock::firmware;

namespace {

constexpr const char* kDrivers[] = {"dell-wmi-sysman", "thinklmi", "hp-bioscfg", "other"};

// A file name a directory can have (the kernel names settings; they contain spaces at least).
std::string dir_name(std::string s) {
  for (auto& c : s)
    if (c == '/' || c == '\0') c = '_';
  if (s.size() > 200) s.resize(200);
  if (s.empty() || s == "." || s == "..") s += "x";
  return s;
}

void put(const fs::path& p, const std::string& value) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary | std::ios::trunc) << value;
}

// A tmpfs directory of this process, removed at exit.
struct Scratch {
  const std::string root = "/dev/shm/seatlock-fuzz-fw-" + std::to_string(getpid());
  ~Scratch() {
    std::error_code ec;
    fs::remove_all(root, ec);
  }
};

// Writes `s` as a sysfs tree under root and reads it back.
fw::Snapshot through_sysfs(const fw::Snapshot& s) {
  static const Scratch scratch;
  const std::string& root = scratch.root;
  std::error_code ec;
  fs::remove_all(root, ec);
  const fs::path fa = fs::path(root) / "class" / "firmware-attributes";
  for (const auto& itf : s.interfaces) {
    fs::create_directories(fa / itf.driver / "attributes");
    for (const auto& [name, set] : itf.settings) {
      put(fa / itf.driver / "attributes" / name / "current_value", set.current_value);
      put(fa / itf.driver / "attributes" / name / "possible_values", set.possible_values);
      put(fa / itf.driver / "attributes" / name / "type", set.type);
    }
    for (const auto& [name, a] : itf.auth) {
      put(fa / itf.driver / "authentication" / name / "role", a.role);
      put(fa / itf.driver / "authentication" / name / "is_enabled", a.is_enabled);
      put(fa / itf.driver / "authentication" / name / "mechanism", a.mechanism);
    }
  }
  const fs::path efi = fs::path(root) / "firmware" / "efi" / "efivars";
  if (s.secure_boot_var)
    put(efi / (std::string("SecureBoot-") + fw::kEfiGlobalGuid), *s.secure_boot_var);
  if (s.setup_mode_var)
    put(efi / (std::string("SetupMode-") + fw::kEfiGlobalGuid), *s.setup_mode_var);
  for (const auto& [k, v] : s.dmi) put(fs::path(root) / "class" / "dmi" / "id" / k, v);
  return fw::read_snapshot(root);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  seatlock::fuzz::Pieces in(data + 1, size - 1);

  fw::Snapshot snap;
  fw::RawInterface itf;
  itf.driver = kDrivers[control & 3];
  for (int i = 0; i < 3; ++i) {
    const std::string name = dir_name(in.next());
    fw::RawSetting set{in.next(), in.next(), fw::trim(in.next())};
    itf.settings[name] = set;
  }
  const std::string auth_name = dir_name(in.next());
  itf.auth[auth_name] = {fw::trim(in.next()), in.next(), fw::trim(in.next())};
  snap.interfaces.push_back(itf);
  if (control & 4) snap.secure_boot_var = in.next();
  if (control & 8) snap.setup_mode_var = in.next();
  snap.dmi["bios_version"] = fw::trim(in.next());
  snap.dmi["product_name"] = fw::trim(in.next());
  const std::string baseline_text = in.next();

  for (const auto& [name, set] : itf.settings) {
    const std::string n = fw::normalise_value(set.current_value);
    FUZZ_CHECK(fw::normalise_value(n) == n, "normalise_value is not idempotent on " + n);
    (void)fw::strip_decorations(set.current_value);
    for (const auto& v : fw::split_possible_values(set.possible_values))
      FUZZ_CHECK(!v.empty(), "empty possible value from " + set.possible_values);
  }
  (void)fw::parse_is_enabled(itf.auth.begin()->second.is_enabled);
  if (snap.secure_boot_var) {
    auto b = fw::parse_efivar_bool(*snap.secure_boot_var);
    FUZZ_CHECK(!b || snap.secure_boot_var->size() == 5, "efivar of the wrong size accepted");
  }

  if ((control & 0x30) == 0) {
    const fw::Snapshot read = through_sysfs(snap);
    FUZZ_CHECK(read.interfaces.size() == 1 && read.interfaces[0].driver == itf.driver,
               "reader lost the interface");
    for (const auto& [name, set] : itf.settings) {
      auto it = read.interfaces[0].settings.find(name);
      FUZZ_CHECK(it != read.interfaces[0].settings.end() &&
                     it->second.current_value == set.current_value &&
                     it->second.possible_values == set.possible_values &&
                     it->second.type == set.type,
                 "reader returns another setting for " + name);
    }
    FUZZ_CHECK(read.secure_boot_var == snap.secure_boot_var, "reader changes SecureBoot");
    FUZZ_CHECK(read.dmi == snap.dmi, "reader changes DMI values");
  }

  const auto checks = fw::read_checks(snap);
  FUZZ_CHECK(checks.size() == fw::kCheckNames.size(), "not one result per check");
  seatlock::FirmwarePolicy policy;
  policy.require = {"admin_password", "usb_boot_disabled", "boot_order_locked",
                    "usb_storage_disabled", "secure_boot"};
  const nlohmann::json baseline = fw::make_baseline(snap, {{"admin_password", true}}, 1, "fuzz");
  try {
    (void)fw::baseline_signed_bytes(baseline);
  } catch (const nlohmann::json::type_error& e) {  // a value that is not UTF-8
    FUZZ_CHECK(seatlock::fuzz::tolerated("firmware-not-utf8"),
               std::string("baseline of this machine cannot be signed: ") + e.what());
    return 0;
  }
  fw::BaselineCheck ok;
  ok.status = "ok";
  ok.baseline = baseline;
  const auto a = fw::attest(snap, policy, ok);
  FUZZ_CHECK(a.drift.empty(), "a snapshot drifts from its own baseline: " + a.drift[0].field);
  (void)fw::to_json(a).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);

  const auto verified = fw::verify_baseline(baseline_text, {"MCowBQYDK2VwAyEA"});
  FUZZ_CHECK(verified.status != "ok", "an unsigned document verified");
  (void)fw::attest(snap, policy, verified);
  return 0;
}
