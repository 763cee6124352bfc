#pragma once
// One remote attestation round against the collector (docs/firmware.md, "Remote attestation"):
// enroll once (enroll -> ActivateCredential -> activate, remembered in the state dir), then
// challenge -> quote bound to the firmware snapshot -> the collector's verdict. Blocking (TPM
// and network): seatlockd runs it on a worker thread. HTTP is given as a transport so this
// stays free of the TLS/curl details (the daemon passes its HttpClient, os/delivery/http_post.hpp).
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "os/tpm/attestor.hpp"

namespace seatlock::tpm {

struct CollectorReply {
  long status = 0;    // 0: no HTTP answer (error says why)
  std::string body;   // the answer
  std::string error;  // transport error
};

struct CollectorTransport {
  std::function<CollectorReply(const std::string& path, const std::string& json_body)> post;
  std::function<CollectorReply(const std::string& path)> get;
};

struct RoundOutcome {
  bool attested = false;  // the collector answered with a verdict (any result)
  nlohmann::json verdict;
  // When not attested: a stable code (TpmError codes, or collector-unreachable,
  // collector-refused, collector-answer) and the precise reason.
  std::string code, reason;
  bool enrolled = false;  // this round enrolled (and pinned) the AK
  double quote_ms = 0;
};

// The enrollment record, <state_dir>/tpm-enrollment.json (0600): which AK the collector pinned.
inline constexpr const char* kEnrollmentFile = "tpm-enrollment.json";

// collector_id: the collector URL; enrolling with another collector enrolls again.
RoundOutcome attest_round(const TpmConfig& config, const std::string& collector_id,
                          const CollectorTransport& transport, const nlohmann::json& snapshot);

}  // namespace seatlock::tpm
