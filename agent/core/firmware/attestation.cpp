#include "core/firmware/attestation.hpp"

#include <algorithm>

#include "core/firmware/values.hpp"

namespace seatlock::firmware {

using nlohmann::json;

namespace {

// DMI and setting differences from the baseline. Settings compare in normalised form, so the
// thinklmi 6.3 format change ("Enable;[Optional:...]" -> "Enable") is not drift. A setting of
// an interface that is no longer present at all is reported once, as the interface.
std::vector<Drift> compare(const Snapshot& s, const json& baseline) {
  std::vector<Drift> out;
  json dmi = identity_json(s);
  for (const char* field : kDmiFields) {  // in identity order, not alphabetical
    if (!baseline["dmi"].contains(field)) continue;
    std::string was = baseline["dmi"][field].get<std::string>();
    std::string now = dmi.value(field, "(absent)");
    if (now != was) out.push_back({std::string("dmi/") + field, was, now});
  }
  json settings = settings_json(s);
  std::vector<std::string> missing_interfaces;
  for (const auto& [key, value] : baseline["settings"].items()) {
    std::string driver = key.substr(0, key.find('/'));
    bool present = std::any_of(s.interfaces.begin(), s.interfaces.end(),
                               [&](const RawInterface& i) { return i.driver == driver; });
    if (!present) {
      if (std::find(missing_interfaces.begin(), missing_interfaces.end(), driver) ==
          missing_interfaces.end()) {
        missing_interfaces.push_back(driver);
        out.push_back({"interface/" + driver, "present", "(absent)"});
      }
      continue;
    }
    auto it = settings.find(key);
    std::string now = it == settings.end() ? "(absent)" : it->get<std::string>();
    if (it == settings.end() || normalise_value(now) != normalise_value(value.get<std::string>()))
      out.push_back({"settings/" + key, value.get<std::string>(), now});
  }
  return out;
}

}  // namespace

Attestation attest(const Snapshot& s, const FirmwarePolicy& policy, const BaselineCheck& baseline) {
  Attestation a;
  a.checks = read_checks(s);
  a.baseline = baseline;
  a.dmi = identity_json(s);
  for (const auto& r : policy.require)
    if (is_known_check(r)) a.required.push_back(r);

  if (baseline.status == "ok") {
    a.drift = compare(s, baseline.baseline);
    for (const auto& d : a.drift)
      a.violations.push_back(d.field + " changed since the baseline: " + d.baseline + " -> " +
                             d.current);
  } else {
    a.violations.push_back("baseline " + baseline.status + ": " + baseline.detail);
  }

  // Attestations fill in what the firmware does not show, and only while the firmware is exactly
  // as the technician saw it: a reset, reflash or swap voids them.
  const bool attestations_hold = baseline.status == "ok" && a.drift.empty();
  for (auto& c : a.checks) {
    if (c.result != Verdict::Unknown || baseline.status != "ok") continue;
    const json& att = baseline.baseline["attested"];
    auto it = att.find(c.name);
    if (it == att.end()) continue;
    if (!attestations_hold) {
      c.evidence += "; attestation '" + it->get<std::string>() +
                    "' void: firmware changed since the baseline";
      continue;
    }
    c.result = *it == "yes" ? Verdict::Pass : Verdict::Fail;
    c.source = "attested";
    c.evidence = "technician attested '" + it->get<std::string>() + "' in baseline of " +
                 baseline.baseline.value("created", "?") + " (firmware: " + c.evidence + ")";
  }

  for (const auto& c : a.checks) {
    if (std::find(a.required.begin(), a.required.end(), c.name) == a.required.end()) continue;
    if (c.result == Verdict::Fail)
      a.violations.push_back("required check " + c.name + " failed: " + c.evidence);
    if (c.result == Verdict::Unknown) a.incomplete.push_back(c.name);
  }
  if (!a.violations.empty()) {
    a.overall = "violation";
    a.severity = "high";
  } else if (!a.incomplete.empty()) {
    a.overall = "incomplete";
    a.severity = "medium";
  } else {
    a.overall = "compliant";
    a.severity = "info";
  }
  return a;
}

json to_json(const Attestation& a) {
  json checks = json::array();
  for (const auto& c : a.checks) {
    bool required = std::find(a.required.begin(), a.required.end(), c.name) != a.required.end();
    checks.push_back({{"name", c.name},
                      {"result", to_string(c.result)},
                      {"evidence", c.evidence},
                      {"source", c.source},
                      {"required", required}});
  }
  json drift = json::array();
  for (const auto& d : a.drift)
    drift.push_back({{"field", d.field}, {"baseline", d.baseline}, {"current", d.current}});
  json baseline = {{"status", a.baseline.status}, {"detail", a.baseline.detail}, {"drift", drift}};
  if (!a.baseline.path.empty()) baseline["path"] = a.baseline.path;
  if (!a.baseline.key.empty()) baseline["key"] = a.baseline.key;
  if (a.baseline.status == "ok") baseline["created"] = a.baseline.baseline.value("created", "");
  return {{"checks", checks},           {"overall", a.overall},       {"baseline", baseline},
          {"violations", a.violations}, {"incomplete", a.incomplete}, {"dmi", a.dmi}};
}

}  // namespace seatlock::firmware
