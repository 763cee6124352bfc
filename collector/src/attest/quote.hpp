#pragma once
// Verifying a TPM2_Quote: the TPMS_ATTEST the TPM signed, against the seat's pinned AK, the
// expected qualifying data and the PCR values the seat sent (sha256 bank, PCRs 0-7).
#include <tss2/tss2_tpm2_types.h>

#include <array>
#include <string>

namespace seatlock::collector::attest {

inline constexpr int kQuotedPcrs = 8;                    // PCRs 0-7
using PcrValues = std::array<std::string, kQuotedPcrs>;  // 32 raw bytes each

// SHA-256(nonce || snapshot_digest): what the seat passes as qualifyingData.
std::string qualifying_data(const std::string& nonce, const std::string& snapshot_digest);

// Throws AttestError with the reason when anything does not hold:
//  - attest: marshalled TPM2B_ATTEST; signature: marshalled TPMT_SIGNATURE
//  - magic TPM_GENERATED, type ATTEST_QUOTE, extraData == expected_extra
//  - signed by `ak` (ECDSA P-256 or RSASSA, SHA-256) over the TPMS_ATTEST bytes
//  - selection = sha256 PCRs 0-7 exactly, pcrDigest == SHA-256(pcr0 || ... || pcr7)
void verify_quote(const std::string& attest, const std::string& signature, const TPMT_PUBLIC& ak,
                  const std::string& expected_extra, const PcrValues& pcrs);

}  // namespace seatlock::collector::attest
