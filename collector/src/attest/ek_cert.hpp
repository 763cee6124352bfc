#pragma once
// The EK certificate (DER, from the TPM's NV index) checked against the vendor CA files the
// collector is configured with (OpenSSL X509 store). EK certificates carry TPM-specific
// extensions (Subject Alternative Name with TPM manufacturer/model, the TCG EK policy), so
// unhandled critical extensions are tolerated; the chain and the key match are what count.
#include <tss2/tss2_tpm2_types.h>

#include <optional>
#include <string>
#include <vector>

namespace seatlock::collector::attest {

// "verified" | "absent" | "untrusted: <why>"  (wire contract: ek_cert_status)
std::string check_ek_cert(const std::optional<std::string>& der, const TPMT_PUBLIC& ek,
                          const std::vector<std::string>& ca_files);

}  // namespace seatlock::collector::attest
