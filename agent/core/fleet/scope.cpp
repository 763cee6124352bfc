#include "core/fleet/scope.hpp"

#include <nlohmann/json.hpp>

#include "core/json/locator.hpp"

namespace seatlock::fleet {

const std::vector<std::string>& local_only_pointers() {
  static const std::vector<std::string> kPointers = {
      "/report/seat_id", "/report/fleet_keys", "/report/collector", "/report/ca",
      "/report/cert",    "/report/key",        "/report/token_file"};
  return kPointers;
}

void check_fleet_scope(const PolicyFile& file, std::vector<PolicyDiagnostic>& errors) {
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(file.text, nullptr, true, /*ignore_comments=*/true);
  } catch (const nlohmann::json::exception&) {
    return;
  }
  if (!doc.is_object()) return;
  JsonLocator loc(file.text);
  for (const auto& ptr : local_only_pointers()) {
    bool present = false;
    try {  // a section of the wrong type ("report": 5) is the validator's to report
      present = doc.contains(nlohmann::json::json_pointer(ptr));
    } catch (const nlohmann::json::exception&) {
    }
    if (!present) continue;
    TextPos pos = loc.key(ptr).value_or(loc.value(ptr).value_or(TextPos{1, 1}));
    errors.push_back({file.name, pos.line, pos.column, ptr,
                      "only a seat's local policy files may set this (it decides how the seat "
                      "reaches and trusts its collector); remove it from the fleet tree"});
  }
}

}  // namespace seatlock::fleet
