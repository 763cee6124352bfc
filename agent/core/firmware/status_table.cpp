#include "core/firmware/status_table.hpp"

#include <sstream>

namespace seatlock::firmware {

namespace {

std::string pad(std::string s, size_t width) {
  if (s.size() < width) s.resize(width, ' ');
  return s + " ";
}

std::string str(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

}  // namespace

std::string format_status_table(const nlohmann::json& a) {
  std::ostringstream out;
  out << pad("CHECK", 22) << pad("RESULT", 8) << pad("SOURCE", 9) << "EVIDENCE\n";
  for (const auto& c : a.value("checks", nlohmann::json::array())) {
    std::string name = str(c, "name") + (c.value("required", false) ? " *" : "");
    out << pad(name, 22) << pad(str(c, "result"), 8) << pad(str(c, "source"), 9)
        << str(c, "evidence") << "\n";
  }
  out << "(* = required by policy)\n";
  const auto& b = a.value("baseline", nlohmann::json::object());
  out << "baseline:  " << str(b, "status");
  if (!str(b, "detail").empty()) out << " - " << str(b, "detail");
  out << "\n";
  for (const auto& d : b.value("drift", nlohmann::json::array()))
    out << "drift:     " << str(d, "field") << ": " << str(d, "baseline") << " -> "
        << str(d, "current") << "\n";
  const auto& dmi = a.value("dmi", nlohmann::json::object());
  if (!dmi.empty())
    out << "bios:      " << str(dmi, "bios_vendor") << " " << str(dmi, "bios_version") << " ("
        << str(dmi, "bios_date") << "), " << str(dmi, "sys_vendor") << " "
        << str(dmi, "product_name") << "\n";
  out << "overall:   " << str(a, "overall") << "\n";
  for (const auto& v : a.value("violations", nlohmann::json::array()))
    out << "  - " << v.get<std::string>() << "\n";
  for (const auto& v : a.value("incomplete", nlohmann::json::array()))
    out << "  - required check " << v.get<std::string>() << " could not be established\n";
  return out.str();
}

}  // namespace seatlock::firmware
