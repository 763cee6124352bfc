#include "os/tpm/tpm_error.hpp"

#include <tss2/tss2_rc.h>
#include <tss2/tss2_tpm2_types.h>

#include <cstdio>

namespace seatlock::tpm {

namespace {

// The TPM's own response code without the handle/parameter/session number bits.
std::uint32_t base_code(std::uint32_t rc) {
  if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER) return 0;
  if (rc & TPM2_RC_FMT1) return rc & (TPM2_RC_FMT1 | 0x3f);
  return rc & 0xfff;
}

}  // namespace

TpmError tss_error(const std::string& what, std::uint32_t rc) {
  char hex[16];
  std::snprintf(hex, sizeof hex, "0x%x", rc);
  std::string text = what + ": " + Tss2_RC_Decode(rc) + " (" + hex + ")";
  switch (base_code(rc)) {
    case TPM2_RC_FAILURE:
      return {"tpm-failure-mode", text + "; the TPM is in failure mode and needs a reset"};
    case TPM2_RC_LOCKOUT:
      return {"tpm-lockout", text + "; the TPM is in dictionary-attack lockout"};
    case TPM2_RC_AUTH_FAIL:
    case TPM2_RC_BAD_AUTH:
      return {"tpm-auth", text + "; the hierarchy or key has a password seatlockd does not know"};
    default:
      return {"tpm-error", text};
  }
}

}  // namespace seatlock::tpm
