#include "attest/boot_facts.hpp"

#include <cstdio>

#include "attest/tpm_keys.hpp"
#include "core/util/digest.hpp"

namespace seatlock::collector::attest {
namespace {

// UEFI_VARIABLE_DATA: VariableName (GUID, 16), UnicodeNameLength (u64, characters),
// VariableDataLength (u64), UnicodeName (UTF-16LE), VariableData.
struct UefiVariable {
  std::string name;  // ASCII rendering of the UTF-16 name
  std::string value;
};

uint64_t le64(const std::string& s, size_t at) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | uint8_t(s[at + i]);
  return v;
}

UefiVariable parse_variable(const std::string& d) {
  if (d.size() < 32) throw AttestError("event log: UEFI variable event shorter than its header");
  uint64_t name_chars = le64(d, 16), data_len = le64(d, 24);
  if (name_chars > 1024 || data_len > d.size() || 32 + name_chars * 2 + data_len != d.size())
    throw AttestError("event log: UEFI variable event lengths do not add up");
  UefiVariable v;
  for (uint64_t i = 0; i < name_chars; ++i) {
    uint8_t lo = uint8_t(d[32 + 2 * i]), hi = uint8_t(d[33 + 2 * i]);
    v.name += (hi == 0 && lo >= 0x20 && lo < 0x7f) ? char(lo) : '?';
  }
  v.value = d.substr(32 + name_chars * 2);
  return v;
}

// EFI_LOAD_OPTION: Attributes (u32), FilePathListLength (u16), Description (UTF-16, NUL).
std::string load_option_description(const std::string& v) {
  std::string out;
  for (size_t i = 6; i + 1 < v.size(); i += 2) {
    uint8_t lo = uint8_t(v[i]), hi = uint8_t(v[i + 1]);
    if (!lo && !hi) break;
    out += (hi == 0 && lo >= 0x20 && lo < 0x7f) ? char(lo) : '?';
  }
  return out;
}

std::string boot_order(const std::string& v) {
  std::string out;
  for (size_t i = 0; i + 1 < v.size(); i += 2) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04X", unsigned(uint8_t(v[i]) | uint8_t(v[i + 1]) << 8));
    out += (out.empty() ? "" : ",") + std::string(buf);
  }
  return out;
}

const char* firmware_event_name(uint32_t type) {
  switch (type) {
    case kEvSCrtmVersion:
      return "EV_S_CRTM_VERSION";
    case kEvPostCode:
      return "EV_POST_CODE";
    case kEvEfiPlatformFirmwareBlob:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB";
    case kEvEfiPlatformFirmwareBlob2:
      return "EV_EFI_PLATFORM_FIRMWARE_BLOB2";
    default:
      return nullptr;
  }
}

}  // namespace

BootFacts evaluate(const EventLog& log) {
  BootFacts f;
  for (const auto& e : log.events) {
    if (e.pcr >= 8 || e.type == kEvNoAction) continue;
    std::string digest_hex = hex_encode(e.sha256);
    if (const char* fw = firmware_event_name(e.type)) {
      f.firmware.push_back(std::string(fw) + " sha256:" + digest_hex);
    } else if (e.type == kEvEfiVariableDriverConfig && e.pcr == 7) {
      // The whole UEFI_VARIABLE_DATA is measured: its hash must be the logged digest.
      if (sha256(e.data) != e.sha256)
        throw AttestError("event log: Secure Boot variable event data does not match its digest");
      auto v = parse_variable(e.data);
      if (v.name == "SecureBoot")
        f.secure_boot = (v.value.size() == 1 && v.value[0] == 1) ? "on" : "off";
      else if (v.name == "PK" || v.name == "KEK" || v.name == "db" || v.name == "dbx")
        f.secure_boot_db[v.name] = digest_hex;
    } else if ((e.type == kEvEfiVariableBoot || e.type == kEvEfiVariableBoot2) && e.pcr == 1) {
      auto v = parse_variable(e.data);
      // EDK2 measured only VariableData for boot variables for years; newer firmware the whole.
      if (sha256(e.data) != e.sha256 && sha256(v.value) != e.sha256)
        throw AttestError("event log: boot variable " + v.name +
                          " event data does not match its digest");
      if (v.name == "BootOrder")
        f.boot_order = boot_order(v.value);
      else if (v.name.size() == 8 && v.name.rfind("Boot", 0) == 0)
        f.boot_entries[v.name] = load_option_description(v.value) + " sha256:" + digest_hex;
    }
  }
  return f;
}

nlohmann::json to_json(const BootFacts& f) {
  return {{"secure_boot", f.secure_boot},
          {"secure_boot_db", f.secure_boot_db},
          {"boot_order", f.boot_order},
          {"boot_entries", f.boot_entries},
          {"firmware", f.firmware}};
}

BootFacts boot_facts_from_json(const nlohmann::json& j) {
  BootFacts f;
  f.secure_boot = j.at("secure_boot").get<std::string>();
  f.secure_boot_db = j.at("secure_boot_db").get<std::map<std::string, std::string>>();
  f.boot_order = j.at("boot_order").get<std::string>();
  f.boot_entries = j.at("boot_entries").get<std::map<std::string, std::string>>();
  f.firmware = j.at("firmware").get<std::vector<std::string>>();
  return f;
}

namespace {

void diff_maps(const char* what, const std::map<std::string, std::string>& base,
               const std::map<std::string, std::string>& now, std::vector<std::string>& out) {
  for (const auto& [k, v] : base) {
    auto it = now.find(k);
    if (it == now.end())
      out.push_back(std::string(what) + " " + k + ": baseline " + v + ", not measured");
    else if (it->second != v)
      out.push_back(std::string(what) + " " + k + ": baseline " + v + ", measured " + it->second);
  }
  for (const auto& [k, v] : now)
    if (!base.count(k))
      out.push_back(std::string(what) + " " + k + ": not in baseline, measured " + v);
}

}  // namespace

std::vector<std::string> differences(const BootFacts& b, const BootFacts& m) {
  std::vector<std::string> out;
  if (b.secure_boot != m.secure_boot)
    out.push_back("secure_boot: baseline " + b.secure_boot + ", measured " + m.secure_boot);
  diff_maps("secure_boot_db", b.secure_boot_db, m.secure_boot_db, out);
  if (b.boot_order != m.boot_order)
    out.push_back("boot_order: baseline " + b.boot_order + ", measured " + m.boot_order);
  diff_maps("boot_entry", b.boot_entries, m.boot_entries, out);
  if (b.firmware != m.firmware) {
    size_t n = std::max(b.firmware.size(), m.firmware.size());
    for (size_t i = 0; i < n; ++i) {
      std::string bv = i < b.firmware.size() ? b.firmware[i] : "none";
      std::string mv = i < m.firmware.size() ? m.firmware[i] : "none";
      if (bv != mv)
        out.push_back("firmware measurement " + std::to_string(i) + ": baseline " + bv +
                      ", measured " + mv);
    }
  }
  return out;
}

std::vector<std::string> contradictions(const nlohmann::json& snapshot, const BootFacts& measured) {
  std::vector<std::string> out;
  if (measured.secure_boot != "on" && measured.secure_boot != "off") return out;
  // The seat sends the whole efivarfs file in hex: 4 attribute bytes, then the value byte.
  const auto* efivars =
      snapshot.is_object() && snapshot.contains("efivars") ? &snapshot["efivars"] : nullptr;
  if (!efivars || !efivars->is_object() || !efivars->contains("SecureBoot")) return out;
  const auto& var = (*efivars)["SecureBoot"];
  if (!var.is_string() || var.get_ref<const std::string&>().size() != 10) return out;
  std::string value = var.get<std::string>().substr(8);
  std::string reported = value == "01" ? "on" : value == "00" ? "off" : "";
  if (!reported.empty() && reported != measured.secure_boot)
    out.push_back("the seat reports Secure Boot " + reported +
                  " (efivars SecureBoot), its proven event log says " + measured.secure_boot);
  return out;
}

}  // namespace seatlock::collector::attest
