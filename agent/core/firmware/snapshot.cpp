#include "core/firmware/snapshot.hpp"

#include "core/firmware/values.hpp"

namespace seatlock::firmware {

nlohmann::json identity_json(const Snapshot& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const char* f : kDmiFields) {
    auto it = s.dmi.find(f);
    if (it != s.dmi.end()) j[f] = it->second;
  }
  return j;
}

nlohmann::json settings_json(const Snapshot& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& itf : s.interfaces)
    for (const auto& [name, setting] : itf.settings) {
      if (name == "pending_reboot" || name == "reset_bios") continue;
      j[itf.driver + "/" + name] = trim(setting.current_value);
    }
  return j;
}

}  // namespace seatlock::firmware
