#pragma once
// TPM2_MakeCredential in software (TPM 2.0 Part 1, "Protected Storage" / credential
// protection): binds a secret to (EK, AK name) so that only the TPM holding that EK, and only
// if it also holds a loaded object with that name, can recover it with ActivateCredential.
// RSA endorsement keys only (the TCG default EK template, and what swtpm_setup makes).
#include <tss2/tss2_tpm2_types.h>

#include <string>

namespace seatlock::collector::attest {

struct Credential {
  std::string credential_blob;   // marshalled TPM2B_ID_OBJECT
  std::string encrypted_secret;  // marshalled TPM2B_ENCRYPTED_SECRET
};

// `secret` at most 32 bytes (a TPM2B_DIGEST). Throws AttestError for an unsupported EK.
Credential make_credential(const TPMT_PUBLIC& ek, const std::string& ak_name,
                           const std::string& secret);

// KDFa (Part 1, 11.4.10.2) with HMAC-SHA-256; `label` without its terminating zero (added here).
std::string kdfa_sha256(const std::string& key, const std::string& label,
                        const std::string& context_u, const std::string& context_v, unsigned bits);

}  // namespace seatlock::collector::attest
