#pragma once
// Ed25519 chain-head signatures (wire contract: docs/wire.md) and enrollment tokens.
#include <cstdint>
#include <optional>
#include <string>

namespace seatlock::collector {

// The ASCII bytes a seat signs: "seatlock.chain/1 <seat_id> <seq> <hex sha256>".
std::string chain_head_message(const std::string& seat_id, std::uint64_t seq,
                               const std::string& hash_hex);

// raw_public = 32 bytes, signature = 64 bytes. False for any malformed input.
bool ed25519_verify(const std::string& raw_public, const std::string& message,
                    const std::string& signature);

// For test clients and benchmarks: a fresh key pair as raw 32-byte strings, and signing.
struct Ed25519Key {
  std::string raw_private, raw_public;
};
Ed25519Key ed25519_generate();
std::string ed25519_sign(const std::string& raw_private, const std::string& message);

// Enrollment token: "slt_" + 64 hex digits of fresh randomness; stored only as sha256_hex(token).
std::string new_enrollment_token();

// Parses "<seq> <64 hex>" (X-Seatlock-Chain-Head).
std::optional<std::pair<std::uint64_t, std::string>> parse_chain_head(const std::string& text);

}  // namespace seatlock::collector
