#pragma once
// The seat's TPM, narrowed to what attestation needs (docs/firmware.md, "Remote attestation"):
// the enrollment material (EK, EK certificate, AK), credential activation, and quotes over the
// SHA-256 PCRs 0-7. open_tpm_attestor() answers with a TpmError (the reason the seat reports as
// `firmware.unattested`) when there is no usable TPM.
#include <map>
#include <memory>
#include <string>

#include "core/attest/wire.hpp"
#include "os/tpm/event_log.hpp"
#include "os/tpm/tpm_error.hpp"

namespace seatlock::tpm {

struct TpmConfig {
  std::string tcti = "device:/dev/tpmrm0";  // tpm2-tss TCTI config string
  std::string state_dir;                    // where the AK blob lives (tpm-ak.blob, 0600)
  std::string event_log_path = kDefaultEventLog;
};

struct TpmQuote {
  std::string quote;                       // TPM2B_ATTEST, marshalled
  std::string signature;                   // TPMT_SIGNATURE, marshalled
  std::map<int, std::string> pcrs_sha256;  // 0..7 -> 32 bytes, the values the quote covers
  double quote_ms = 0;                     // seat-side time: PCR read + TPM2_Quote
};

class TpmAttestor {
 public:
  virtual ~TpmAttestor() = default;
  // EK public (+ certificate when present) and the AK's public area and name.
  virtual Expected<attest::EnrollmentMaterial> enrollment() = 0;
  // TPM2_ActivateCredential of the collector's (TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET) for the
  // AK with the EK: the recovered secret. Fails unless the credential was made for this TPM's
  // EK and this AK's name.
  virtual Expected<std::string> activate_credential(const std::string& credential_blob,
                                                    const std::string& encrypted_secret) = 0;
  // A quote over SHA-256 PCRs 0-7 with qualifying_data as extraData (attest::qualifying_data).
  virtual Expected<TpmQuote> quote(const std::string& qualifying_data) = 0;
  virtual EventLogRead event_log() = 0;
  virtual bool ak_created() const = 0;  // this open created the AK (first start)
};

Expected<std::unique_ptr<TpmAttestor>> open_tpm_attestor(const TpmConfig& config);

}  // namespace seatlock::tpm
