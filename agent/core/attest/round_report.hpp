#pragma once
// What the seat records about its remote attestation rounds (docs/events.md): the collector's
// verdict as a local event, and `firmware.unattested` once per distinct reason.
#include <nlohmann/json.hpp>
#include <string>

#include "core/event/kinds.hpp"

namespace seatlock::attest {

// The collector's answer to POST /v1/attest/quote as the seat received it: severity info for
// `verified`, high for `drift` and `failed` (and anything else the collector might say).
Event verdict_event(const nlohmann::json& verdict, const std::string& tcti);

// Reports a reason for not being attested once, not every interval: the same (code, reason)
// again is suppressed until an attestation succeeds or another reason came in between. Reasons
// that differ only in a transfer's timing ("after 3001 ms") are the same reason.
class UnattestedGate {
 public:
  bool should_report(const std::string& code, const std::string& reason);
  void attested() { last_.clear(); }

 private:
  std::string last_;
};

}  // namespace seatlock::attest
