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

// A tpm2-tss TCTI config string: "<module>" or "<module>:<conf>", e.g. device:/dev/tpmrm0,
// swtpm:host=127.0.0.1,port=2321, tabrmd:bus_type=system.
std::string check_tcti(const std::string& s) {
  static const char* kModules[] = {"device", "swtpm", "mssim", "tabrmd", "libtpms", "cmd"};
  std::string module = s.substr(0, s.find(':'));
  for (const char* m : kModules)
    if (module == m) {
      for (char ch : s)
        if (static_cast<unsigned char>(ch) <= ' ')
          return "expected a TCTI string without spaces, got " + json(s).dump();
      return "";
    }
  return "expected a TCTI string (device:/dev/tpmrm0, swtpm:host=H,port=P, mssim:..., "
         "tabrmd:...), got " +
         json(s).dump();
}

void validate_attestation(const json& v, Checker& c) {
  if (!c.object(v, "/firmware/attestation", {"tpm", "interval"})) return;
  if (v.contains("tpm")) c.string_format(v["tpm"], "/firmware/attestation/tpm", check_tcti);
  if (v.contains("interval"))
    c.string_format(v["interval"], "/firmware/attestation/interval", pf::check_duration);
}

}  // namespace

void validate_firmware(const json& v, Checker& c) {
  if (!c.object(
          v, "/firmware",
          {"mode", "interval", "resend", "require", "baseline", "trusted_keys", "attestation"}))
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
  if (v.contains("attestation")) validate_attestation(v["attestation"], c);
}

void validate_report(const json& v, Checker& c) {
  if (!c.object(v, "/report",
                {"seat_id", "collector", "ca", "cert", "key", "token_file", "heartbeat",
                 "spool_max", "batch_max_events", "fleet_keys"}))
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
  if (v.contains("fleet_keys"))  // pinned fleet bundle signers (docs/fleet.md)
    c.string_array(v["fleet_keys"], "/report/fleet_keys", pf::check_ed25519_key);
}

}  // namespace seatlock::policy_check
