#pragma once
// The collector's side of remote attestation, without HTTP (routes.cpp wraps it):
//  enroll   -> MakeCredential for (EK, AK name), EK certificate check; pending in memory
//  activate -> the seat proved its AK lives beside its EK: the AK is pinned for the seat
//  challenge-> a fresh nonce for the seat (NonceStore)
//  quote    -> the verdict (`firmware.attested`), recorded in the AttestStore and returned
// Wire contract: docs/firmware.md, "Remote attestation".
#include <chrono>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "attest/attest_store.hpp"
#include "attest/nonce_store.hpp"

namespace seatlock::collector::audit {
class CollectorLog;
}

namespace seatlock::collector::attest {

struct AttestConfig {
  std::vector<std::string> ek_ca_files;  // vendor CA PEM files for EK certificates
  std::chrono::seconds enrollment_ttl{300};
  std::chrono::seconds nonce_ttl{300};
};

struct ActivateResult {
  int status = 200;  // 200 pinned, 403 wrong secret / unknown enrollment, 400 malformed
  std::string message;
};

class Attestor {
 public:
  // `log` (may be nullptr): every verdict is also recorded there as a `firmware.attested`
  // collector event (verdict_event.hpp), so query/export/verify show it.
  Attestor(AttestStore& store, AttestConfig config, audit::CollectorLog* log = nullptr);

  // Throws AttestError (answered 400) for a malformed request or an unusable EK/AK.
  nlohmann::json enroll(const std::string& seat, const nlohmann::json& req);
  ActivateResult activate(const std::string& seat, const nlohmann::json& req);
  nlohmann::json challenge(const std::string& seat);
  // Never throws for what the seat sent: every outcome is a verdict, recorded before returning.
  nlohmann::json quote(const std::string& seat, const nlohmann::json& req);

  // Forgets the seat's pinned AK (a replaced mainboard/TPM), so that it can enroll with another
  // EK; recorded with the ticket among the seat's verdicts. False when nothing was pinned.
  bool unpin(const std::string& seat, const std::string& ticket);

  // Records a boot baseline from the newest attestation whose event log was proven.
  // Throws std::runtime_error when there is none.
  BootBaseline baseline_from_last(const std::string& seat, const std::string& ticket);

 private:
  static constexpr std::size_t kMaxPendingEnrollments = 10000;
  void refuse_other_ek(const std::string& seat, const std::string& ek_b64);
  struct Pending {
    std::string seat, secret, ak_public_b64, ek_public_b64, ek_cert_status;
    std::chrono::steady_clock::time_point expires;
  };
  AttestStore& store_;
  AttestConfig config_;
  audit::CollectorLog* log_ = nullptr;
  NonceStore nonces_;
  std::mutex mu_;  // pending_ and the store (one SQLite connection)
  std::map<std::string, Pending> pending_;
};

}  // namespace seatlock::collector::attest
