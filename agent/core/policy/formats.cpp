#include "core/policy/formats.hpp"

#include <cctype>

#include "core/usb/usb_class_table.hpp"
#include "core/util/digest.hpp"
#include "core/util/time.hpp"

namespace seatlock::policy_format {
namespace {

std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump();
}

bool all_of(const std::string& s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}

}  // namespace

std::string describe(const nlohmann::json& v) {
  if (v.is_array()) return "an array";
  if (v.is_object()) return "an object";
  std::string d = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (d.size() > 80) d = d.substr(0, 77) + "...";
  return d;
}

std::string check_mode(const std::string& s) {
  if (s == "enforce" || s == "audit") return "";
  return "expected \"enforce\" or \"audit\", got " + quoted(s);
}

std::string check_hex4(const std::string& s, const char* what) {
  if (s.size() == 4 &&
      all_of(s, [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }))
    return "";
  return std::string("expected a ") + what + " of 4 hex digits such as \"0951\", got " + quoted(s);
}

std::string check_usb_port(const std::string& s) {
  // <bus>-<port>[.<port>...]
  std::size_t dash = s.find('-');
  bool ok = dash != std::string::npos && dash > 0 && dash + 1 < s.size();
  for (std::size_t i = 0; ok && i < s.size(); ++i) {
    char c = s[i];
    if (i < dash)
      ok = std::isdigit(static_cast<unsigned char>(c));
    else if (i > dash)
      ok = std::isdigit(static_cast<unsigned char>(c)) ||
           (c == '.' && s[i - 1] != '.' && s[i - 1] != '-' && i + 1 < s.size());
  }
  if (ok) return "";
  return "expected a USB port path such as \"1-2\" or \"3-1.4\", got " + quoted(s);
}

std::string check_posix_name(const std::string& s, const char* what) {
  // POSIX portable names ([A-Za-z0-9._-], not starting with '-'), at most 32 characters; a
  // trailing '$' is allowed for machine accounts. Whether the name exists is the daemon's check.
  bool ok = !s.empty() && s.size() <= 32 && s[0] != '-';
  for (std::size_t i = 0; ok && i < s.size(); ++i) {
    char c = s[i];
    ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-' ||
         (c == '$' && i + 1 == s.size() && i > 0);
  }
  if (ok && (s == "." || s == "..")) ok = false;
  if (ok) return "";
  return std::string("expected a ") + what +
         " name (letters, digits, '.', '_', '-'; at most 32), got " + quoted(s);
}

std::string check_seat_id(const std::string& s) {
  bool ok = !s.empty() && s.size() <= 64 && std::isalnum(static_cast<unsigned char>(s[0]));
  for (char c : s)
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-');
  if (ok) return "";
  return "expected a seat id (a letter or digit, then letters, digits, '.', '_', '-'; at most 64), "
         "got " +
         quoted(s);
}

std::string check_https_url(const std::string& s) {
  const std::string scheme = "https://";
  std::string bad =
      "expected an https:// URL such as \"https://collector.example:8443\", got " + quoted(s);
  if (s.compare(0, scheme.size(), scheme) != 0) return bad;
  std::string rest = s.substr(scheme.size());
  std::size_t end = rest.find_first_of("/?#");
  std::string authority = rest.substr(0, end);
  if (authority.empty() || authority.find('@') != std::string::npos) return bad;
  for (char c : s)
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return bad;
  std::size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    std::string port = authority.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !all_of(port, [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }) ||
        std::stoul(port) == 0 || std::stoul(port) > 65535)
      return bad;
  }
  return "";
}

std::string check_absolute_path(const std::string& s) {
  if (!s.empty() && s[0] == '/' && s.find('\0') == std::string::npos) return "";
  return "expected an absolute path, got " + quoted(s);
}

std::string check_ed25519_key(const std::string& s) {
  std::string raw;
  if (base64_decode(s, raw) && raw.size() == 32) return "";
  return "expected an Ed25519 public key (base64 of 32 bytes), got " + quoted(s);
}

std::string check_interface_name(const std::string& s) {
  bool ok = !s.empty() && s.size() <= 15 && s != "." && s != "..";
  for (char c : s)
    ok = ok && static_cast<unsigned char>(c) > ' ' && c != '/' && c != ':' && c != 0x7f;
  if (ok) return "";
  return "expected a network interface name (at most 15 characters, no '/', ':' or spaces), got " +
         quoted(s);
}

std::string check_ticket(const std::string& s) {
  bool blank = true;
  for (char c : s) blank = blank && std::isspace(static_cast<unsigned char>(c));
  if (!blank) return "";
  return "expected a ticket reference such as \"IT-1234\", got " + quoted(s);
}

std::string check_duration(const std::string& s) {
  auto ms = parse_duration_ms(s);
  if (ms && *ms > 0) return "";
  return "expected a duration such as \"90s\", \"6h\" or \"1h30m\" (units ms, s, m, h, d), got " +
         quoted(s);
}

std::string check_port(const nlohmann::json& v, PortRange* out) {
  std::string bad = "expected a port 1-65535 or a range such as \"5060-5061\", got " + describe(v);
  auto num = [](const std::string& t) -> long {
    if (t.empty() || t.size() > 5 || (t.size() > 1 && t[0] == '0')) return -1;
    for (char c : t)
      if (!std::isdigit(static_cast<unsigned char>(c))) return -1;
    return std::stol(t);
  };
  long first = -1, last = -1;
  if (v.is_number_integer()) {
    first = last = v.get<long>();
  } else if (v.is_string()) {
    std::string t = v.get<std::string>();
    std::size_t dash = t.find('-');
    first = num(t.substr(0, dash));
    last = dash == std::string::npos ? first : num(t.substr(dash + 1));
  } else {
    return bad;
  }
  if (first < 1 || first > 65535 || last < 1 || last > 65535) return bad;
  if (first > last) return "expected a port range with first <= last, got " + describe(v);
  if (out) *out = {static_cast<std::uint16_t>(first), static_cast<std::uint16_t>(last)};
  return "";
}

std::string check_byte_size(const nlohmann::json& v, std::uint64_t* out) {
  std::optional<std::uint64_t> n;
  if (v.is_number_unsigned())
    n = v.get<std::uint64_t>();
  else if (v.is_string())
    n = parse_byte_size(v.get<std::string>());
  if (n && *n > 0) {
    if (out) *out = *n;
    return "";
  }
  return "expected a size such as \"256MiB\" (units B, KiB, MiB, GiB) or a number of bytes, got " +
         describe(v);
}

const std::vector<UsbClassName>& usb_class_names() {
  // From core/usb's table (header-only: core/policy does not link core/usb).
  static const std::vector<UsbClassName> kNames = [] {
    std::vector<UsbClassName> v;
    for (const auto& row : kUsbClassTable) v.push_back({row.name, row.code, row.allowable});
    return v;
  }();
  return kNames;
}

const std::vector<std::string>& firmware_checks() {
  static const std::vector<std::string> kChecks = {"admin_password", "usb_boot_disabled",
                                                   "boot_order_locked", "usb_storage_disabled",
                                                   "secure_boot"};
  return kChecks;
}

}  // namespace seatlock::policy_format
