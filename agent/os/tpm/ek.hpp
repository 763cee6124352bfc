#pragma once
// The endorsement key: the TCG EK Credential Profile's default RSA-2048 EK (template L-1),
// re-created from the endorsement seed (same key every time), and its certificate from the
// TPM's NV index 0x01c00002 when the manufacturer put one there.
#include <tss2/tss2_esys.h>

#include <optional>
#include <string>

#include "os/tpm/tpm_error.hpp"

namespace seatlock::tpm {

inline constexpr TPM2_HANDLE kEkCertRsaNvIndex = 0x01c00002;

// The profile's template L-1 (also what tpm2_createek and swtpm_setup use).
TPM2B_PUBLIC ek_rsa_template();

struct Ek {
  ESYS_TR handle = ESYS_TR_NONE;  // transient; the caller flushes it
  TPM2B_PUBLIC public_area{};
};

Expected<Ek> create_ek(ESYS_CONTEXT* esys);

// DER bytes, nullopt when the index is not defined; an error when it exists but cannot be read.
Expected<std::optional<std::string>> read_ek_certificate(ESYS_CONTEXT* esys);

}  // namespace seatlock::tpm
