#include "core/firmware/values.hpp"

#include <cctype>

namespace seatlock::firmware {

std::string trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string strip_decorations(std::string_view raw) {
  std::string v = trim(raw);
  // Old thinklmi appends ";[Optional:...]" and/or "[Status:...]" to the value.
  if (auto p = v.find(";["); p != std::string::npos) v.resize(p);
  if (auto p = v.find("[Status:"); p != std::string::npos) v.resize(p);
  if (auto p = v.find("[Optional:"); p != std::string::npos) v.resize(p);
  return trim(v);
}

std::string normalise_value(std::string_view raw) {
  std::string v = strip_decorations(raw);
  std::string out;
  bool space = false;
  for (char c : v) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out == "enable" || out == "enabled" || out == "on" || out == "yes" || out == "true")
    return "enabled";
  if (out == "disable" || out == "disabled" || out == "off" || out == "no" || out == "false")
    return "disabled";
  return out;
}

std::vector<std::string> split_possible_values(std::string_view raw) {
  std::string v = trim(raw);
  // Old thinklmi lists them inside the value: "[Optional:Disable,Enable]".
  if (auto p = v.find("[Optional:"); p != std::string::npos) {
    v = v.substr(p + 10);
    if (auto q = v.find(']'); q != std::string::npos) v.resize(q);
  }
  std::vector<std::string> out;
  std::string cur;
  auto flush = [&] {
    std::string t = trim(cur);
    if (!t.empty()) out.push_back(t);
    cur.clear();
  };
  for (char c : v) {
    if (c == ';' || c == ',')
      flush();
    else
      cur.push_back(c);
  }
  flush();
  return out;
}

std::optional<bool> parse_is_enabled(std::string_view raw) {
  std::string v = trim(raw);
  if (v == "1") return true;
  if (v == "0") return false;
  return std::nullopt;
}

std::optional<bool> parse_efivar_bool(std::string_view bytes) {
  if (bytes.size() != 5) return std::nullopt;
  unsigned char value = static_cast<unsigned char>(bytes[4]);
  if (value == 0) return false;
  if (value == 1) return true;
  return std::nullopt;
}

}  // namespace seatlock::firmware
