#pragma once
// Hashing and encodings, built in (no OpenSSL: seatlock-usbd links these and must not map
// libcrypto). No I/O here.
#include <string>
#include <string_view>

namespace seatlock {

std::string sha256_hex(std::string_view bytes);
std::string sha256_bytes(std::string_view bytes);  // the 32 raw bytes
std::string hex_encode(std::string_view bytes);
std::string base64_encode(std::string_view bytes);
// Returns false on malformed input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace seatlock
