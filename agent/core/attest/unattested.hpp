#pragma once
// The seat's `firmware.unattested` event: the seat could not produce TPM evidence, and says
// exactly why. It is never treated as "fine" (docs/events.md).
#include <string>

#include "core/event/kinds.hpp"

namespace seatlock::attest {

// code: a stable machine word (no-tpm-device, tpm-permission-denied, tpm-failure-mode, tpm-lockout,
// no-sha256-bank, tpm-error, state-dir, ...); reason: the precise message for people; tcti: which
// TPM was tried.
Event unattested_event(const std::string& code, const std::string& reason, const std::string& tcti);

}  // namespace seatlock::attest
