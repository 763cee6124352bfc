#include "core/attest/qualifying_data.hpp"

#include <openssl/sha.h>

namespace seatlock::attest {

namespace {
int nibble(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::optional<std::string> hex_decode(std::string_view hex) {
  if (hex.size() % 2 != 0) return std::nullopt;
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]), lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
  }
  return out;
}

std::optional<std::string> qualifying_data(std::string_view nonce_hex,
                                           std::string_view digest_hex) {
  if (nonce_hex.size() != 64 || digest_hex.size() != 64) return std::nullopt;
  auto nonce = hex_decode(nonce_hex), digest = hex_decode(digest_hex);
  if (!nonce || !digest) return std::nullopt;
  std::string both = *nonce + *digest;
  std::string out(SHA256_DIGEST_LENGTH, '\0');
  SHA256(reinterpret_cast<const unsigned char*>(both.data()), both.size(),
         reinterpret_cast<unsigned char*>(out.data()));
  return out;
}

}  // namespace seatlock::attest
