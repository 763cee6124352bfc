#pragma once
// Hashing and encodings (OpenSSL is used for the arithmetic only; no I/O here).
#include <string>
#include <string_view>

namespace seatlock {

std::string sha256_hex(std::string_view bytes);
std::string hex_encode(std::string_view bytes);
std::string base64_encode(std::string_view bytes);
// Returns false on malformed input.
bool base64_decode(std::string_view text, std::string& out);

}  // namespace seatlock
