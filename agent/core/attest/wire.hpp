#pragma once
// The seat's side of the attestation wire contract (docs/firmware.md, "Remote attestation"):
// building the enrollment and quote requests, reading the collector's answers. Binary fields
// are the TPM's own marshalled structures (libtss2-mu), base64 on the wire; here they are
// plain byte strings, so this stays free of TPM and OS calls.
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace seatlock::attest {

struct EnrollmentMaterial {
  std::string ek_public;               // TPM2B_PUBLIC
  std::optional<std::string> ek_cert;  // DER, from NV 0x01c00002, when the TPM has one
  std::string ak_public;               // TPM2B_PUBLIC
  std::string ak_name;                 // TPM2B_NAME
};

// POST /v1/attest/enroll body.
nlohmann::json enroll_request(const EnrollmentMaterial& m);

struct EnrollmentAnswer {
  std::string enrollment;
  std::string credential_blob;   // TPM2B_ID_OBJECT
  std::string encrypted_secret;  // TPM2B_ENCRYPTED_SECRET
  std::string ek_cert_status;    // verified | absent | untrusted: <why>
};

// Reads the collector's answer to enroll; on a malformed answer returns nullopt and sets error
// to "<json pointer>: <what was expected>".
std::optional<EnrollmentAnswer> parse_enroll_answer(const nlohmann::json& j, std::string& error);

// POST /v1/attest/activate body.
nlohmann::json activate_request(const std::string& enrollment, const std::string& secret);

// GET /v1/attest/challenge answer: the 64-hex nonce, or nullopt with error set.
std::optional<std::string> parse_challenge(const nlohmann::json& j, std::string& error);

struct QuoteEvidence {
  std::string nonce_hex;
  nlohmann::json snapshot;                 // snapshot_json()
  std::string snapshot_digest_hex;         // snapshot_digest_hex(snapshot)
  std::string quote;                       // TPM2B_ATTEST
  std::string signature;                   // TPMT_SIGNATURE
  std::map<int, std::string> pcrs_sha256;  // PCR index -> 32-byte value
  std::optional<std::string> event_log;    // binary_bios_measurements, when readable
  double quote_ms = 0;
};

// POST /v1/attest/quote body.
nlohmann::json quote_request(const QuoteEvidence& q);

}  // namespace seatlock::attest
