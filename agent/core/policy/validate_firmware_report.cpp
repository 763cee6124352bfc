#include "core/policy/formats.hpp"
#include "core/policy/validate.hpp"

namespace seatlock::policy_check {
namespace pf = policy_format;

namespace {

std::string check_firmware_check(const std::string& s) {
  std::string names;
  for (const auto& n : pf::firmware_checks()) {
    if (s == n) return "";
    names += (names.empty() ? "" : ", ") + n;
  }
  return "expected a firmware check (" + names + "), got " + json(s).dump();
}

}  // namespace

void validate_firmware(const json& v, Checker& c) {
  if (!c.object(v, "/firmware",
                {"mode", "interval", "resend", "require", "baseline", "trusted_keys"}))
    return;
  if (v.contains("mode")) c.string_format(v["mode"], "/firmware/mode", pf::check_mode);
  if (v.contains("interval"))
    c.string_format(v["interval"], "/firmware/interval", pf::check_duration);
  if (v.contains("resend")) c.string_format(v["resend"], "/firmware/resend", pf::check_duration);
  if (v.contains("require"))
    c.string_array(v["require"], "/firmware/require", check_firmware_check);
  if (v.contains("baseline"))
    c.string_format(v["baseline"], "/firmware/baseline", pf::check_absolute_path);
  if (v.contains("trusted_keys"))
    c.string_array(v["trusted_keys"], "/firmware/trusted_keys", pf::check_ed25519_key);
}

void validate_report(const json& v, Checker& c) {
  if (!c.object(v, "/report",
                {"seat_id", "collector", "ca", "cert", "key", "token_file", "heartbeat",
                 "spool_max", "batch_max_events"}))
    return;
  if (v.contains("seat_id")) c.string_format(v["seat_id"], "/report/seat_id", pf::check_seat_id);
  if (v.contains("collector"))
    c.string_format(v["collector"], "/report/collector", pf::check_https_url);
  for (const char* k : {"ca", "cert", "key", "token_file"})
    if (v.contains(k)) c.string_format(v[k], "/report/" + std::string(k), pf::check_absolute_path);
  if (v.contains("heartbeat"))
    c.string_format(v["heartbeat"], "/report/heartbeat", pf::check_duration);
  if (v.contains("spool_max")) {
    std::string problem = pf::check_byte_size(v["spool_max"]);
    if (!problem.empty()) c.error("/report/spool_max", problem);
  }
  if (v.contains("batch_max_events"))
    c.is_positive_int(v["batch_max_events"], "/report/batch_max_events", 100000);
}

}  // namespace seatlock::policy_check
