#pragma once
// The quote's qualifying data (TPMS_ATTEST.extraData): SHA-256(nonce bytes || snapshot digest
// bytes), 32 bytes. It binds the collector's fresh nonce and the reported firmware snapshot
// into what the TPM signs.
#include <optional>
#include <string>
#include <string_view>

namespace seatlock::attest {

// Lower-case or upper-case hex to bytes; nullopt for odd length or a non-hex character.
std::optional<std::string> hex_decode(std::string_view hex);

// nullopt unless nonce_hex is 64 hex digits (32 bytes) and digest_hex is 64 hex digits.
std::optional<std::string> qualifying_data(std::string_view nonce_hex, std::string_view digest_hex);

}  // namespace seatlock::attest
