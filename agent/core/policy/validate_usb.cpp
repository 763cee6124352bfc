#include "core/policy/formats.hpp"
#include "core/policy/validate.hpp"

namespace seatlock::policy_check {
namespace pf = policy_format;

namespace {

std::string check_class_name(const std::string& s) {
  const char* kStorageLike =
      " is storage-like and cannot be allowed by name: let one device through with a "
      "usb.exceptions entry";
  std::string names;
  const pf::UsbClassName* hint = nullptr;
  for (const auto& n : pf::usb_class_names()) {
    if (s == n.name && !n.allowable)
      return "expected a class that may be allowed by name, got " + json(s).dump() +
             " (storage-like: let one device through with a usb.exceptions entry instead)";
    if (s == n.name) return "";
    if (n.allowable) names += (names.empty() ? "" : ", ") + std::string(n.name);
    if (!hint && s.size() >= 4 && std::string(n.name).find(s) != std::string::npos) hint = &n;
  }
  for (const auto& n : pf::usb_class_names())
    if (!hint && !closest_key(s, {n.name}).empty()) hint = &n;
  std::string got = "expected a USB class name, got " + json(s).dump();
  if (hint && hint->allowable) return got + " (did you mean \"" + hint->name + "\"?)";
  if (hint) return got + " (\"" + hint->name + "\"" + kStorageLike + ")";
  return "expected a USB class name (" + names + "), got " + json(s).dump();
}

void validate_exception(const json& e, const std::string& ptr, Checker& c,
                        const PolicyLoadOptions& options) {
  if (!c.object(e, ptr, {"vid", "pid", "serial", "port", "until", "ticket", "read_only", "comment"},
                {"vid", "pid", "until", "ticket"}))
    return;
  if (e.contains("vid"))
    c.string_format(e["vid"], ptr + "/vid",
                    [](const std::string& s) { return pf::check_hex4(s, "vendor id"); });
  if (e.contains("pid"))
    c.string_format(e["pid"], ptr + "/pid",
                    [](const std::string& s) { return pf::check_hex4(s, "product id"); });
  if (e.contains("serial"))
    c.string_format(e["serial"], ptr + "/serial", [](const std::string& s) {
      return s.empty() ? std::string(
                             "expected the device's serial number, got \"\" (leave \"serial\" out "
                             "to match any)")
                       : "";
    });
  if (e.contains("port")) c.string_format(e["port"], ptr + "/port", pf::check_usb_port);
  if (e.contains("ticket")) c.string_format(e["ticket"], ptr + "/ticket", pf::check_ticket);
  if (e.contains("read_only")) c.is_bool(e["read_only"], ptr + "/read_only");
  if (e.contains("comment")) c.is_string(e["comment"], ptr + "/comment");
  check_until(e, ptr, c, options);
}

}  // namespace

void validate_usb(const json& v, Checker& c, const PolicyLoadOptions& options) {
  if (!c.object(v, "/usb", {"mode", "allow_classes", "exceptions"})) return;
  if (v.contains("mode")) c.string_format(v["mode"], "/usb/mode", pf::check_mode);
  if (v.contains("allow_classes"))
    c.string_array(v["allow_classes"], "/usb/allow_classes", check_class_name);
  if (v.contains("exceptions") && c.is_array(v["exceptions"], "/usb/exceptions")) {
    const json& list = v["exceptions"];
    for (std::size_t i = 0; i < list.size(); ++i)
      validate_exception(list[i], "/usb/exceptions/" + std::to_string(i), c, options);
  }
}

}  // namespace seatlock::policy_check
