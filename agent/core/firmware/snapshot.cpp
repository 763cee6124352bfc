#include "core/firmware/snapshot.hpp"

#include "core/firmware/values.hpp"
#include "core/util/utf8.hpp"

namespace seatlock::firmware {

nlohmann::json identity_json(const Snapshot& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const char* f : kDmiFields) {
    auto it = s.dmi.find(f);
    if (it != s.dmi.end()) j[f] = valid_utf8(it->second);  // raw SMBIOS bytes
  }
  return j;
}

nlohmann::json settings_json(const Snapshot& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& itf : s.interfaces)
    for (const auto& [name, setting] : itf.settings) {
      if (name == "pending_reboot" || name == "reset_bios") continue;
      j[valid_utf8(itf.driver + "/" + name)] = valid_utf8(trim(setting.current_value));
    }
  return j;
}

}  // namespace seatlock::firmware
