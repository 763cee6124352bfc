#pragma once
// The firmware snapshot a quote is bound to. The seat sends this JSON with the quote; the
// collector recomputes the digest from it, so both sides MUST use these two functions.
// The digest is SHA-256 over canonical_bytes() (docs/events.md), the same serialisation the
// signed firmware baseline covers, over the same "dmi" and "settings" objects the baseline
// records, plus the raw Secure Boot efivars.
#include <nlohmann/json.hpp>
#include <string>

#include "core/firmware/snapshot.hpp"

namespace seatlock::attest {

inline constexpr const char* kSnapshotFormat = "seatlock.firmware-snapshot/1";

// {"format", "dmi", "settings", "efivars": {"SecureBoot": hex|null, "SetupMode": hex|null},
//  "read_errors": [...]}
nlohmann::json snapshot_json(const firmware::Snapshot& s);

// 64 lower-case hex: sha256(canonical_bytes(snapshot)).
std::string snapshot_digest_hex(const nlohmann::json& snapshot);

}  // namespace seatlock::attest
