#include "os/tpm/ak.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <tss2/tss2_mu.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "os/base/atomic_file.hpp"
#include "os/tpm/esys_connection.hpp"

namespace seatlock::tpm {

namespace {

constexpr TPMA_OBJECT kKeyBase = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                 TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                 TPMA_OBJECT_RESTRICTED;

TpmError file_error(const std::string& what, const std::string& path) {
  return {"state-dir", what + " " + path + ": " + std::strerror(errno)};
}

Expected<bool> write_private_file(const std::string& path, const std::string& bytes) {
  try {
    atomic_write(path, bytes, 0600);
  } catch (const AtomicWriteError& e) {
    return TpmError{"state-dir", e.what()};
  }
  return true;
}

Expected<ESYS_TR> create_srk(ESYS_CONTEXT* esys) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC tmpl = srk_ecc_template();
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION no_pcrs{};
  ESYS_TR srk = ESYS_TR_NONE;
  TPM2B_PUBLIC* pub = nullptr;
  TPM2B_CREATION_DATA* cd = nullptr;
  TPM2B_DIGEST* ch = nullptr;
  TPMT_TK_CREATION* tk = nullptr;
  TSS2_RC rc =
      Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                         &sensitive, &tmpl, &outside, &no_pcrs, &srk, &pub, &cd, &ch, &tk);
  Esys_Free(pub);
  Esys_Free(cd);
  Esys_Free(ch);
  Esys_Free(tk);
  if (rc != TSS2_RC_SUCCESS) return tss_error("creating the storage root key (ECC P-256)", rc);
  return srk;
}

std::string marshal_blob(const TPM2B_PRIVATE& priv, const TPM2B_PUBLIC& pub) {
  std::string out(sizeof priv + sizeof pub, '\0');
  size_t off = 0;
  auto* buf = reinterpret_cast<uint8_t*>(out.data());
  Tss2_MU_TPM2B_PRIVATE_Marshal(&priv, buf, out.size(), &off);
  Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, buf, out.size(), &off);
  out.resize(off);
  return out;
}

bool unmarshal_blob(const std::string& bytes, TPM2B_PRIVATE& priv, TPM2B_PUBLIC& pub) {
  size_t off = 0;
  auto* buf = reinterpret_cast<const uint8_t*>(bytes.data());
  return Tss2_MU_TPM2B_PRIVATE_Unmarshal(buf, bytes.size(), &off, &priv) == TSS2_RC_SUCCESS &&
         Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, bytes.size(), &off, &pub) == TSS2_RC_SUCCESS &&
         off == bytes.size();
}

}  // namespace

TPM2B_PUBLIC srk_ecc_template() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kKeyBase | TPMA_OBJECT_NODA | TPMA_OBJECT_DECRYPT;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.eccDetail.symmetric.keyBits.aes = 128;
  p.parameters.eccDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  p.unique.ecc.x.size = 32;
  p.unique.ecc.y.size = 32;
  return t;
}

TPM2B_PUBLIC ak_ecc_template() {
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_ECC;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = kKeyBase | TPMA_OBJECT_SIGN_ENCRYPT;
  p.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
  p.parameters.eccDetail.scheme.scheme = TPM2_ALG_ECDSA;
  p.parameters.eccDetail.scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
  p.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
  p.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
  return t;
}

Expected<Ak> load_or_create_ak(ESYS_CONTEXT* esys, const std::string& state_dir) {
  std::error_code ec;
  std::filesystem::create_directories(state_dir, ec);
  if (ec)
    return TpmError{"state-dir", "cannot create state dir " + state_dir + ": " + ec.message()};
  const std::string path = state_dir + "/" + kAkBlobName;

  auto srk = create_srk(esys);
  if (!srk) return srk.error();
  Ak ak;
  TPM2B_PRIVATE priv{};
  TPM2B_PUBLIC pub{};
  TSS2_RC rc;
  if (std::filesystem::exists(path, ec)) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    if (!in.good() && !in.eof()) {
      Esys_FlushContext(esys, *srk);
      return file_error("cannot read", path);
    }
    if (!unmarshal_blob(ss.str(), priv, pub)) {
      Esys_FlushContext(esys, *srk);
      return TpmError{"ak-unloadable", path +
                                           " is not a TPM2B_PRIVATE + TPM2B_PUBLIC blob; remove "
                                           "it to create and enroll a new AK"};
    }
  } else {
    TPM2B_SENSITIVE_CREATE sensitive{};
    TPM2B_PUBLIC tmpl = ak_ecc_template();
    TPM2B_DATA outside{};
    TPML_PCR_SELECTION no_pcrs{};
    TPM2B_PRIVATE* out_priv = nullptr;
    TPM2B_PUBLIC* out_pub = nullptr;
    TPM2B_CREATION_DATA* cd = nullptr;
    TPM2B_DIGEST* ch = nullptr;
    TPMT_TK_CREATION* tk = nullptr;
    rc = Esys_Create(esys, *srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
                     &outside, &no_pcrs, &out_priv, &out_pub, &cd, &ch, &tk);
    EsysPtr<TPM2B_PRIVATE> p1(out_priv);
    EsysPtr<TPM2B_PUBLIC> p2(out_pub);
    Esys_Free(cd);
    Esys_Free(ch);
    Esys_Free(tk);
    if (rc != TSS2_RC_SUCCESS) {
      Esys_FlushContext(esys, *srk);
      return tss_error("creating the attestation key (ECDSA P-256)", rc);
    }
    priv = *out_priv;
    pub = *out_pub;
    auto written = write_private_file(path, marshal_blob(priv, pub));
    if (!written) {
      Esys_FlushContext(esys, *srk);
      return written.error();
    }
    ak.created = true;
  }

  rc = Esys_Load(esys, *srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &pub, &ak.handle);
  Esys_FlushContext(esys, *srk);
  if (rc != TSS2_RC_SUCCESS) {
    TpmError e = tss_error("loading the attestation key from " + path, rc);
    if (e.code == "tpm-error") {
      e.code = "ak-unloadable";
      e.reason +=
          "; the TPM was cleared or replaced: remove the file to create and enroll a new AK";
    }
    return e;
  }
  ak.public_area = pub;
  TPM2B_NAME* name = nullptr;
  rc = Esys_TR_GetName(esys, ak.handle, &name);
  EsysPtr<TPM2B_NAME> name_owner(name);
  if (rc != TSS2_RC_SUCCESS) {
    Esys_FlushContext(esys, ak.handle);
    return tss_error("reading the attestation key's name", rc);
  }
  ak.name = *name;
  return ak;
}

}  // namespace seatlock::tpm
