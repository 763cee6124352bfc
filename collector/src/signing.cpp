#include "signing.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>
#include <memory>
#include <stdexcept>

#include "core/util/digest.hpp"

namespace seatlock::collector {

std::string chain_head_message(const std::string& seat_id, std::uint64_t seq,
                               const std::string& hash_hex) {
  return "seatlock.chain/1 " + seat_id + " " + std::to_string(seq) + " " + hash_hex;
}

namespace {
using PKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using MdCtx = std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)>;
const unsigned char* bytes(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}
}  // namespace

bool ed25519_verify(const std::string& raw_public, const std::string& message,
                    const std::string& signature) {
  if (raw_public.size() != 32 || signature.size() != 64) return false;
  PKey key(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(raw_public), 32),
           EVP_PKEY_free);
  if (!key) return false;
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(message),
                          message.size()) == 1;
}

Ed25519Key ed25519_generate() {
  EVP_PKEY* raw = nullptr;
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr), EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_keygen_init(ctx.get()) != 1 || EVP_PKEY_keygen(ctx.get(), &raw) != 1)
    throw std::runtime_error("Ed25519 key generation failed");
  PKey key(raw, EVP_PKEY_free);
  Ed25519Key out;
  size_t n = 32;
  out.raw_private.resize(32);
  out.raw_public.resize(32);
  EVP_PKEY_get_raw_private_key(key.get(), reinterpret_cast<unsigned char*>(out.raw_private.data()),
                               &n);
  n = 32;
  EVP_PKEY_get_raw_public_key(key.get(), reinterpret_cast<unsigned char*>(out.raw_public.data()),
                              &n);
  return out;
}

std::string ed25519_sign(const std::string& raw_private, const std::string& message) {
  PKey key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes(raw_private),
                                        raw_private.size()),
           EVP_PKEY_free);
  MdCtx ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!key || !ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, key.get()) != 1)
    throw std::runtime_error("Ed25519 signing setup failed");
  std::string sig(64, '\0');
  size_t len = sig.size();
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len, bytes(message),
                     message.size()) != 1)
    throw std::runtime_error("Ed25519 signing failed");
  sig.resize(len);
  return sig;
}

std::string new_enrollment_token() {
  unsigned char buf[32];
  if (RAND_bytes(buf, sizeof buf) != 1) throw std::runtime_error("no randomness for the token");
  return "slt_" + hex_encode(std::string_view(reinterpret_cast<const char*>(buf), sizeof buf));
}

std::optional<std::pair<std::uint64_t, std::string>> parse_chain_head(const std::string& text) {
  auto sp = text.find(' ');
  if (sp == std::string::npos || sp == 0) return std::nullopt;
  std::uint64_t seq = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + sp, seq);
  if (ec != std::errc() || p != text.data() + sp || seq == 0) return std::nullopt;
  std::string hash = text.substr(sp + 1);
  if (hash.size() != 64) return std::nullopt;
  for (char c : hash)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  return std::make_pair(seq, hash);
}

}  // namespace seatlock::collector
