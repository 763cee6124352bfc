#include "attest/make_credential.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <tss2/tss2_mu.h>

#include <memory>
#include <vector>

#include "attest/tpm_keys.hpp"

namespace seatlock::collector::attest {
namespace {

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
          static_cast<char>(v)};
}

std::string hmac_sha256(const std::string& key, const std::string& data) {
  unsigned char out[32];
  unsigned len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

// The seed goes to the EK with RSA-OAEP(SHA-256), label "IDENTITY\0" (Part 1, B.10.3).
std::string oaep_encrypt(const TPMT_PUBLIC& ek, const std::string& seed) {
  EvpKey key = public_key(ek);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new(key.get(), nullptr), EVP_PKEY_CTX_free);
  static const char kLabel[] = "IDENTITY";              // sizeof includes the terminating zero
  void* label = OPENSSL_memdup(kLabel, sizeof kLabel);  // the context takes ownership
  size_t len = 0;
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) <= 0 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx.get(), EVP_sha256()) <= 0 ||
      EVP_PKEY_CTX_set0_rsa_oaep_label(ctx.get(), label, sizeof kLabel) <= 0) {
    OPENSSL_free(label);
    throw AttestError("cannot set up RSA-OAEP for the EK");
  }
  auto in = reinterpret_cast<const unsigned char*>(seed.data());
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &len, in, seed.size()) <= 0)
    throw AttestError("RSA-OAEP to the EK failed");
  std::string out(len, '\0');
  if (EVP_PKEY_encrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in,
                       seed.size()) <= 0)
    throw AttestError("RSA-OAEP to the EK failed");
  out.resize(len);
  return out;
}

std::string aes128_cfb_encrypt(const std::string& key, const std::string& plain) {
  std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(),
                                                                      EVP_CIPHER_CTX_free);
  unsigned char iv[16] = {};  // zero IV: the key is fresh for every credential (Part 1, 24.4)
  std::string out(plain.size(), '\0');
  int len = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_cfb128(), nullptr,
                         reinterpret_cast<const unsigned char*>(key.data()), iv) != 1 ||
      EVP_EncryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                        reinterpret_cast<const unsigned char*>(plain.data()),
                        static_cast<int>(plain.size())) != 1)
    throw AttestError("AES-128-CFB failed");
  return out;
}

}  // namespace

std::string kdfa_sha256(const std::string& key, const std::string& label,
                        const std::string& context_u, const std::string& context_v, unsigned bits) {
  std::string out;
  for (uint32_t i = 1; out.size() * 8 < bits; ++i)
    out += hmac_sha256(key,
                       be32(i) + label + std::string(1, '\0') + context_u + context_v + be32(bits));
  out.resize((bits + 7) / 8);
  return out;
}

Credential make_credential(const TPMT_PUBLIC& ek, const std::string& ak_name,
                           const std::string& secret) {
  if (ek.type != TPM2_ALG_RSA)
    throw AttestError("only RSA endorsement keys are supported (the EK is not RSA)");
  if (ek.nameAlg != TPM2_ALG_SHA256) throw AttestError("EK name algorithm is not SHA-256");
  const auto& sym = ek.parameters.rsaDetail.symmetric;
  if (sym.algorithm != TPM2_ALG_AES || sym.keyBits.aes != 128 || sym.mode.aes != TPM2_ALG_CFB)
    throw AttestError("EK's symmetric algorithm is not AES-128-CFB");
  if (secret.empty() || secret.size() > 32) throw AttestError("credential must be 1..32 bytes");

  std::string seed(32, '\0');  // digest size of the EK's nameAlg
  if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), 32) != 1)
    throw AttestError("no randomness for the credential seed");

  std::string sym_key = kdfa_sha256(seed, "STORAGE", ak_name, "", 128);
  std::string hmac_key = kdfa_sha256(seed, "INTEGRITY", "", "", 256);
  // The credential is encrypted as a marshalled TPM2B_DIGEST (size || bytes).
  std::string plain =
      std::string{static_cast<char>(secret.size() >> 8), static_cast<char>(secret.size() & 0xff)} +
      secret;
  std::string enc_identity = aes128_cfb_encrypt(sym_key, plain);
  std::string outer_hmac = hmac_sha256(hmac_key, enc_identity + ak_name);

  TPM2B_ID_OBJECT id{};
  std::string body = std::string{0, 32} + outer_hmac + enc_identity;  // TPM2B_DIGEST || encIdentity
  id.size = static_cast<UINT16>(body.size());
  std::copy(body.begin(), body.end(), id.credential);

  TPM2B_ENCRYPTED_SECRET es{};
  std::string wrapped = oaep_encrypt(ek, seed);
  if (wrapped.size() > sizeof es.secret) throw AttestError("EK modulus too large");
  es.size = static_cast<UINT16>(wrapped.size());
  std::copy(wrapped.begin(), wrapped.end(), es.secret);

  Credential c;
  std::vector<uint8_t> buf(sizeof(TPM2B_ID_OBJECT) + sizeof(TPM2B_ENCRYPTED_SECRET));
  size_t off = 0;
  if (Tss2_MU_TPM2B_ID_OBJECT_Marshal(&id, buf.data(), buf.size(), &off) != TSS2_RC_SUCCESS)
    throw AttestError("cannot marshal TPM2B_ID_OBJECT");
  c.credential_blob.assign(reinterpret_cast<char*>(buf.data()), off);
  off = 0;
  if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&es, buf.data(), buf.size(), &off) != TSS2_RC_SUCCESS)
    throw AttestError("cannot marshal TPM2B_ENCRYPTED_SECRET");
  c.encrypted_secret.assign(reinterpret_cast<char*>(buf.data()), off);
  return c;
}

}  // namespace seatlock::collector::attest
