#include "usbd/channel_wire.hpp"

namespace seatlock {

using nlohmann::json;

json event_to_wire(const Event& e) {
  json j = {{"id", e.id},           {"time", e.time},
            {"kind", e.kind},       {"severity", e.severity},
            {"outcome", e.outcome}, {"details", e.details}};
  if (!e.mode.empty()) j["mode"] = e.mode;
  if (!e.rule.empty()) j["rule"] = e.rule;
  if (!e.policy_sha256.empty()) j["policy_sha256"] = e.policy_sha256;
  return j;
}

std::optional<Event> event_from_wire(const json& j, std::string& error) {
  if (!j.is_object()) {
    error = "not an object";
    return std::nullopt;
  }
  Event e;
  auto str = [&](const char* key, std::string& into, bool required) {
    auto it = j.find(key);
    if (it == j.end()) return !required || (error = std::string(key) + " missing", false);
    if (!it->is_string()) return (error = std::string(key) + " is not a string", false);
    into = it->get<std::string>();
    return true;
  };
  if (!str("id", e.id, true) || !str("kind", e.kind, true) || !str("severity", e.severity, true) ||
      !str("outcome", e.outcome, true) || !str("mode", e.mode, false) ||
      !str("rule", e.rule, false) || !str("policy_sha256", e.policy_sha256, false))
    return std::nullopt;
  auto time = j.find("time");
  if (time == j.end() || !time->is_number_integer()) {
    error = "time is not an integer";
    return std::nullopt;
  }
  e.time = time->get<UnixMillis>();
  auto details = j.find("details");
  e.details = details != j.end() && details->is_object() ? *details : json::object();
  return e;
}

}  // namespace seatlock
