#include "core/policy/formats.hpp"
#include "core/policy/validate.hpp"

namespace seatlock::policy_check {

void validate_document(const json& doc, Checker& c, const PolicyLoadOptions& options) {
  for (const auto& dup : c.locator().duplicate_keys())
    c.error_at_key(dup, "duplicate key (the same object already has it; only one may be given)");
  if (!doc.is_object()) {
    c.error("",
            "expected the policy file to be a JSON object, got " + policy_format::describe(doc));
    return;
  }
  c.object(doc, "", {"$schema", "comment", "usb", "network", "firmware", "report"});
  if (doc.contains("$schema")) c.is_string(doc["$schema"], "/$schema");
  if (doc.contains("comment")) c.is_string(doc["comment"], "/comment");
  if (doc.contains("usb")) validate_usb(doc["usb"], c, options);
  if (doc.contains("network")) validate_network(doc["network"], c, options);
  if (doc.contains("firmware")) validate_firmware(doc["firmware"], c);
  if (doc.contains("report")) validate_report(doc["report"], c);
}

void check_until(const json& entry, const std::string& entry_ptr, Checker& c,
                 const PolicyLoadOptions& options) {
  if (!entry.contains("until")) return;
  const std::string ptr = entry_ptr + "/until";
  if (!c.is_string(entry["until"], ptr)) return;
  auto until = parse_rfc3339(entry["until"].get<std::string>());
  if (!until) {
    c.error(ptr, "expected an RFC 3339 time with offset, got " +
                     policy_format::describe(entry["until"]));
    return;
  }
  if (*until > options.now) return;
  std::string when = format_rfc3339_ms(*until);
  if (when.size() > 5 && when.compare(when.size() - 5, 5, ".000Z") == 0)
    when = when.substr(0, when.size() - 5) + "Z";
  std::string message = "exception expired at " + when;
  if (entry.contains("ticket") && entry["ticket"].is_string())
    message += " (ticket " + entry["ticket"].get<std::string>() + ")";
  if (options.expired_is_error) {
    c.error(ptr, message + "; remove it or extend \"until\"");
  } else {
    c.warning(ptr, message + "; left out of the policy");
    c.dropped().insert(entry_ptr);
  }
}

}  // namespace seatlock::policy_check
