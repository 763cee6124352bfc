#pragma once
// A verdict document (Attestor::quote) as the collector event `firmware.attested`, and the
// admin records (unpin, baseline) as `attest.unpinned` / `attest.baseline_set`: what
// CollectorLog::record stores in the collector's own chain (docs/firmware.md).
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "audit/collector_log.hpp"

namespace seatlock::collector::attest {

// details: result, reasons, differences, proven_by_tpm (the facts the replayed event log
// proves; null when the quote or log was not proven), reported_by_seat (the seat's own
// snapshot, labelled: the BIOS admin password and firmware-attributes are not measured),
// ek_cert_status, attest_verdict_id (the row in `attest show`). Severity: info when verified,
// high for drift or failed.
audit::CollectorEventInput verdict_event(const std::string& seat, const nlohmann::json& verdict,
                                         std::int64_t verdict_id);

audit::CollectorEventInput admin_event(const std::string& kind, const std::string& seat,
                                       const std::string& ticket, nlohmann::json details);

}  // namespace seatlock::collector::attest
