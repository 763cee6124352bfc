#pragma once
// The TPM's own structures as the collector reads them (wire contract: base64 of what
// libtss2-mu marshals): a TPM2B_PUBLIC unmarshalled, its TPM name, and its key as an OpenSSL
// EVP_PKEY. Everything here takes untrusted bytes and throws AttestError on anything malformed.
#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include <memory>
#include <stdexcept>
#include <string>

namespace seatlock::collector::attest {

// A refusal with a precise reason (answered as 400/403 or recorded as a "failed" verdict).
struct AttestError : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// The request is well-formed but not allowed (answered 403).
struct AttestForbidden : AttestError {
  using AttestError::AttestError;
};

using EvpKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

// Whole input must be one TPM2B_PUBLIC (no trailing bytes).
TPM2B_PUBLIC unmarshal_public(const std::string& bytes, const char* what);
// TPM name: nameAlg (2 bytes, big-endian) || H_nameAlg(marshalled TPMT_PUBLIC). SHA-256 only.
std::string tpm_name(const TPMT_PUBLIC& pub);
// The public key (RSA with its exponent, or ECC NIST P-256) for OpenSSL.
EvpKey public_key(const TPMT_PUBLIC& pub);
// Checks what an attestation key must be: restricted signing key that never left its TPM
// (fixedTPM, fixedParent, sensitiveDataOrigin), RSA-2048 RSASSA or ECC P-256 ECDSA, SHA-256.
void check_ak_attributes(const TPMT_PUBLIC& pub);

std::string sha256(const std::string& bytes);

}  // namespace seatlock::collector::attest
