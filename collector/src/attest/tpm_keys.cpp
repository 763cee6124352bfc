#include "attest/tpm_keys.hpp"

#include <openssl/core_names.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <tss2/tss2_mu.h>

#include <vector>

namespace seatlock::collector::attest {

std::string sha256(const std::string& bytes) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d);
  return std::string(reinterpret_cast<char*>(d), sizeof d);
}

TPM2B_PUBLIC unmarshal_public(const std::string& bytes, const char* what) {
  TPM2B_PUBLIC pub{};
  size_t off = 0;
  auto rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(reinterpret_cast<const uint8_t*>(bytes.data()),
                                           bytes.size(), &off, &pub);
  if (rc != TSS2_RC_SUCCESS || off != bytes.size())
    throw AttestError(std::string(what) + ": not a TPM2B_PUBLIC");
  return pub;
}

std::string tpm_name(const TPMT_PUBLIC& pub) {
  if (pub.nameAlg != TPM2_ALG_SHA256) throw AttestError("key name algorithm is not SHA-256");
  std::vector<uint8_t> buf(sizeof(TPMT_PUBLIC));
  size_t off = 0;
  if (Tss2_MU_TPMT_PUBLIC_Marshal(&pub, buf.data(), buf.size(), &off) != TSS2_RC_SUCCESS)
    throw AttestError("cannot marshal TPMT_PUBLIC");
  std::string name = {static_cast<char>(TPM2_ALG_SHA256 >> 8),
                      static_cast<char>(TPM2_ALG_SHA256 & 0xff)};
  return name + sha256(std::string(reinterpret_cast<char*>(buf.data()), off));
}

namespace {

using ParamBld = std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)>;
using Params = std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)>;
using Bn = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

EvpKey from_params(const char* type, OSSL_PARAM_BLD* bld) {
  Params params(OSSL_PARAM_BLD_to_param(bld), OSSL_PARAM_free);
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr), EVP_PKEY_CTX_free);
  EVP_PKEY* key = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) <= 0 ||
      EVP_PKEY_fromdata(ctx.get(), &key, EVP_PKEY_PUBLIC_KEY, params.get()) <= 0)
    throw AttestError(std::string("invalid ") + type + " public key");
  return EvpKey(key, EVP_PKEY_free);
}

}  // namespace

EvpKey public_key(const TPMT_PUBLIC& pub) {
  ParamBld bld(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
  if (pub.type == TPM2_ALG_RSA) {
    const auto& rsa = pub.unique.rsa;
    if (rsa.size == 0) throw AttestError("RSA key without a modulus");
    UINT32 exp = pub.parameters.rsaDetail.exponent ? pub.parameters.rsaDetail.exponent : 65537;
    Bn n(BN_bin2bn(rsa.buffer, rsa.size, nullptr), BN_free);
    Bn e(BN_new(), BN_free);
    BN_set_word(e.get(), exp);
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get());
    OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get());
    return from_params("RSA", bld.get());
  }
  if (pub.type == TPM2_ALG_ECC) {
    if (pub.parameters.eccDetail.curveID != TPM2_ECC_NIST_P256)
      throw AttestError("ECC key on a curve other than NIST P-256");
    const auto& x = pub.unique.ecc.x;
    const auto& y = pub.unique.ecc.y;
    if (x.size > 32 || y.size > 32) throw AttestError("ECC point coordinates too long");
    // Uncompressed point: 0x04 || X || Y, each left-padded to 32 bytes.
    unsigned char point[65] = {0x04};
    std::copy(x.buffer, x.buffer + x.size, point + 1 + 32 - x.size);
    std::copy(y.buffer, y.buffer + y.size, point + 33 + 32 - y.size);
    OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0);
    OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point);
    return from_params("EC", bld.get());
  }
  throw AttestError("key type is neither RSA nor ECC");
}

void check_ak_attributes(const TPMT_PUBLIC& pub) {
  const TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT |
                           TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN;
  if ((pub.objectAttributes & need) != need)
    throw AttestError(
        "AK is not a restricted signing key bound to its TPM (needs restricted, sign, fixedTPM, "
        "fixedParent, sensitiveDataOrigin)");
  if (pub.objectAttributes & TPMA_OBJECT_DECRYPT) throw AttestError("AK is also a decryption key");
  if (pub.nameAlg != TPM2_ALG_SHA256) throw AttestError("AK name algorithm is not SHA-256");
  if (pub.type == TPM2_ALG_RSA) {
    const auto& d = pub.parameters.rsaDetail;
    if (d.keyBits != 2048) throw AttestError("RSA AK is not 2048 bits");
    if (d.scheme.scheme != TPM2_ALG_RSASSA || d.scheme.details.rsassa.hashAlg != TPM2_ALG_SHA256)
      throw AttestError("RSA AK scheme is not RSASSA with SHA-256");
  } else if (pub.type == TPM2_ALG_ECC) {
    const auto& d = pub.parameters.eccDetail;
    if (d.curveID != TPM2_ECC_NIST_P256) throw AttestError("ECC AK is not on NIST P-256");
    if (d.scheme.scheme != TPM2_ALG_ECDSA || d.scheme.details.ecdsa.hashAlg != TPM2_ALG_SHA256)
      throw AttestError("ECC AK scheme is not ECDSA with SHA-256");
  } else {
    throw AttestError("AK is neither RSA nor ECC");
  }
}

}  // namespace seatlock::collector::attest
