#pragma once
// The signed firmware baseline IT records at imaging (format: docs/firmware.md).
//   {"baseline": {...}, "signature": "<base64 Ed25519 over canonical_bytes(baseline)>",
//    "key": "<base64 raw 32-byte Ed25519 public key>"}
// Building and verifying are pure; reading files and private keys is os/firmware.
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/firmware/snapshot.hpp"
#include "core/util/time.hpp"

namespace seatlock::firmware {

inline constexpr const char* kBaselineFormat = "seatlock.firmware-baseline/1";

// The technician's answers for checks the firmware does not expose: check -> true ("yes").
using Attestations = std::map<std::string, bool>;

// Parses "admin_password=yes" (yes/no); throws std::invalid_argument with a precise message.
std::pair<std::string, bool> parse_attestation(std::string_view text);

// The "baseline" object for a machine: DMI identity, readable settings, attestations.
nlohmann::json make_baseline(const Snapshot& s, const Attestations& attested, UnixMillis created,
                             const std::string& note);

// The bytes the signature covers.
std::string baseline_signed_bytes(const nlohmann::json& baseline);

// Assembles the file content (pretty JSON + newline) from a baseline, signature and key.
std::string baseline_document(const nlohmann::json& baseline, std::string_view signature,
                              std::string_view public_key_raw);

// Raw Ed25519 check (32-byte key, 64-byte signature).
bool ed25519_verify(std::string_view public_key_raw, std::string_view message,
                    std::string_view signature);

struct BaselineCheck {
  std::string status = "missing";  // ok | missing | invalid | untrusted
  std::string detail;              // why, for people
  std::string path;                // where it was read from ("" = none configured)
  std::string key;                 // base64 public key the document names
  nlohmann::json baseline;         // the verified "baseline" object (only when status == "ok")
};

// Verifies a baseline document against the policy's trusted keys (base64 raw Ed25519).
BaselineCheck verify_baseline(std::string_view text, const std::vector<std::string>& trusted_keys);

}  // namespace seatlock::firmware
