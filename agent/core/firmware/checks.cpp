#include "core/firmware/checks.hpp"

#include "core/firmware/values.hpp"
#include "core/firmware/vendor_table.hpp"

namespace seatlock::firmware {

bool is_known_check(std::string_view name) {
  for (auto n : kCheckNames)
    if (n == name) return true;
  return false;
}

const char* to_string(Verdict v) {
  switch (v) {
    case Verdict::Pass:
      return "pass";
    case Verdict::Fail:
      return "fail";
    case Verdict::Unknown:
      break;
  }
  return "unknown";
}

namespace {

bool in_list(std::string_view list, const std::string& value) {
  while (!list.empty()) {
    auto bar = list.find('|');
    std::string_view item = list.substr(0, bar);
    if (item == value) return true;
    if (bar == std::string_view::npos) break;
    list.remove_prefix(bar + 1);
  }
  return false;
}

// Judges one table row against one interface; nullopt when the entry is absent.
std::optional<CheckResult> judge(const VendorRule& rule, const RawInterface& itf) {
  CheckResult r{std::string(rule.check), Verdict::Unknown, "", "firmware"};
  const std::string where = itf.driver + "/" + std::string(rule.name);
  if (rule.kind == RuleKind::Auth) {
    auto it = itf.auth.find(std::string(rule.name));
    if (it == itf.auth.end()) return std::nullopt;
    auto enabled = parse_is_enabled(it->second.is_enabled);
    r.evidence = "authentication/" + where + " is_enabled = " + trim(it->second.is_enabled);
    if (enabled)
      r.result = *enabled ? Verdict::Pass : Verdict::Fail;
    else
      r.evidence += " (not 0 or 1)";
    return r;
  }
  auto it = itf.settings.find(std::string(rule.name));
  if (it == itf.settings.end()) return std::nullopt;
  std::string value = normalise_value(it->second.current_value);
  r.evidence = where + " = " + strip_decorations(it->second.current_value);
  if (in_list(rule.pass, value))
    r.result = Verdict::Pass;
  else if (in_list(rule.fail, value))
    r.result = Verdict::Fail;
  else
    r.evidence += " (value not understood)";
  return r;
}

CheckResult from_table(std::string_view check, const Snapshot& s) {
  std::vector<CheckResult> found;
  for (const auto& itf : s.interfaces)
    for (const auto& rule : vendor_rules())
      if (rule.check == check && rule.driver == itf.driver)
        if (auto r = judge(rule, itf)) found.push_back(std::move(*r));

  CheckResult out{std::string(check), Verdict::Unknown, "", "none"};
  // A single failing entry fails the check (two entries for one check must both agree).
  for (Verdict want : {Verdict::Fail, Verdict::Pass, Verdict::Unknown}) {
    for (const auto& r : found) {
      if (r.result != want) continue;
      if (out.evidence.empty())
        out = r;
      else
        out.evidence += "; " + r.evidence;
    }
    if (!out.evidence.empty()) return out;
  }
  if (s.interfaces.empty()) {
    out.evidence = "no firmware-attributes interface";
    return out;
  }
  std::string drivers;
  bool known = false;
  for (const auto& itf : s.interfaces) {
    drivers += (drivers.empty() ? "" : ", ") + itf.driver;
    known = known || is_known_driver(itf.driver);
  }
  out.evidence =
      known ? "not exposed by " + drivers : "vendor interface not in seatlock's table: " + drivers;
  return out;
}

CheckResult secure_boot(const Snapshot& s) {
  std::optional<bool> sb, setup;
  if (s.secure_boot_var) sb = parse_efivar_bool(*s.secure_boot_var);
  if (s.setup_mode_var) setup = parse_efivar_bool(*s.setup_mode_var);
  auto text = [](const std::optional<std::string>& raw,
                 const std::optional<bool>& v) -> std::string {
    if (!raw) return "absent";
    if (!v) return "unreadable (" + std::to_string(raw->size()) + " bytes)";
    return *v ? "1" : "0";
  };
  std::string evidence = "efivars SecureBoot=" + text(s.secure_boot_var, sb) +
                         " SetupMode=" + text(s.setup_mode_var, setup);
  // Setup mode means no platform key is enrolled: anyone may enrol keys, whatever SecureBoot says.
  if (setup && *setup) return {"secure_boot", Verdict::Fail, evidence + " (setup mode)", "efivars"};
  if (sb) return {"secure_boot", *sb ? Verdict::Pass : Verdict::Fail, evidence, "efivars"};
  CheckResult r = from_table("secure_boot", s);
  if (r.result == Verdict::Unknown && (s.secure_boot_var || s.setup_mode_var))
    r.evidence = evidence + "; " + r.evidence;
  return r;
}

}  // namespace

std::vector<CheckResult> read_checks(const Snapshot& s) {
  std::vector<CheckResult> out;
  for (auto name : kCheckNames)
    out.push_back(name == "secure_boot" ? secure_boot(s) : from_table(name, s));
  return out;
}

}  // namespace seatlock::firmware
