#pragma once
// The attestation key: a restricted ECDSA P-256 / SHA-256 signing key under the owner
// hierarchy's SRK (the TCG provisioning guidance's ECC SRK template, re-created from the owner
// seed). Created ONCE: its TPM-wrapped private part and its public part are stored in
// <state_dir>/tpm-ak.blob (mode 0600) and loaded again on every later start, so its name,
// which the collector pins, never changes while the TPM keeps its owner seed.
#include <tss2/tss2_esys.h>

#include <string>

#include "os/tpm/tpm_error.hpp"

namespace seatlock::tpm {

inline constexpr const char* kAkBlobName = "tpm-ak.blob";

struct Ak {
  ESYS_TR handle = ESYS_TR_NONE;  // loaded, transient; the caller flushes it
  TPM2B_PUBLIC public_area{};
  TPM2B_NAME name{};
  bool created = false;  // true when this call made the key (first start)
};

TPM2B_PUBLIC srk_ecc_template();
TPM2B_PUBLIC ak_ecc_template();

// Loads the AK stored in state_dir, or creates and stores it when there is none yet. A stored
// AK that no longer loads (TPM cleared, other TPM) is an error ("ak-unloadable"), never
// silently replaced: the collector would otherwise see a different key.
Expected<Ak> load_or_create_ak(ESYS_CONTEXT* esys, const std::string& state_dir);

}  // namespace seatlock::tpm
