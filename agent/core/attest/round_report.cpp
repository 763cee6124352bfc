#include "core/attest/round_report.hpp"

#include <regex>

namespace seatlock::attest {

using nlohmann::json;

Event verdict_event(const json& verdict, const std::string& tcti) {
  std::string result = verdict.value("result", "");
  const bool verified = result == "verified";
  Event e =
      make_event(EventKind::FirmwareAttestationVerdict, verified ? Severity::Info : Severity::High,
                 verified ? Outcome::Reported : Outcome::Detected);
  e.rule = "firmware.attestation";
  e.details = {{"result", result.empty() ? "unknown" : result},
               {"reasons", verdict.value("reasons", json::array())},
               {"differences", verdict.value("differences", json::array())},
               {"ek_cert_status", verdict.value("ek_cert_status", "")},
               {"quote_ms", verdict.value("seat_quote_ms", json())},
               {"collector_time", verdict.value("time", "")},
               {"tcti", tcti}};
  return e;
}

namespace {

// curl's messages carry timings ("... after 3001 ms: ..."): the same reason, worded differently.
std::string without_timings(const std::string& reason) {
  static const std::regex kTiming(" after [0-9]+ ms");
  return std::regex_replace(reason, kTiming, "");
}

}  // namespace

bool UnattestedGate::should_report(const std::string& code, const std::string& reason) {
  std::string key = code + '\n' + without_timings(reason);
  if (key == last_) return false;
  last_ = key;
  return true;
}

}  // namespace seatlock::attest
