#include "os/tpm/ek.hpp"

#include <algorithm>

#include "os/tpm/esys_connection.hpp"

namespace seatlock::tpm {

TPM2B_PUBLIC ek_rsa_template() {
  // PolicySecret(TPM_RH_ENDORSEMENT), the EK Credential Profile's authPolicy for template L-1.
  static const BYTE kPolicy[32] = {0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC,
                                   0x8D, 0x46, 0xA5, 0xD7, 0x24, 0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52,
                                   0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA};
  TPM2B_PUBLIC t{};
  TPMT_PUBLIC& p = t.publicArea;
  p.type = TPM2_ALG_RSA;
  p.nameAlg = TPM2_ALG_SHA256;
  p.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                       TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_ADMINWITHPOLICY |
                       TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  p.authPolicy.size = sizeof kPolicy;
  std::copy(std::begin(kPolicy), std::end(kPolicy), p.authPolicy.buffer);
  p.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.parameters.rsaDetail.symmetric.keyBits.aes = 128;
  p.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  p.parameters.rsaDetail.keyBits = 2048;
  p.parameters.rsaDetail.exponent = 0;
  p.unique.rsa.size = 256;  // 256 zero bytes
  return t;
}

Expected<Ek> create_ek(ESYS_CONTEXT* esys) {
  TPM2B_SENSITIVE_CREATE sensitive{};
  TPM2B_PUBLIC tmpl = ek_rsa_template();
  TPM2B_DATA outside{};
  TPML_PCR_SELECTION no_pcrs{};
  Ek ek;
  TPM2B_PUBLIC* out_public = nullptr;
  TPM2B_CREATION_DATA* creation_data = nullptr;
  TPM2B_DIGEST* creation_hash = nullptr;
  TPMT_TK_CREATION* ticket = nullptr;
  TSS2_RC rc = Esys_CreatePrimary(esys, ESYS_TR_RH_ENDORSEMENT, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, &sensitive, &tmpl, &outside, &no_pcrs, &ek.handle,
                                  &out_public, &creation_data, &creation_hash, &ticket);
  EsysPtr<TPM2B_PUBLIC> pub(out_public);
  EsysPtr<TPM2B_CREATION_DATA> cd(creation_data);
  EsysPtr<TPM2B_DIGEST> ch(creation_hash);
  EsysPtr<TPMT_TK_CREATION> tk(ticket);
  if (rc != TSS2_RC_SUCCESS) return tss_error("creating the endorsement key (RSA-2048, L-1)", rc);
  ek.public_area = *pub;
  return ek;
}

namespace {

// NV_Read in chunks no larger than what every TPM accepts (TPM2_PT_NV_BUFFER_MAX >= 512).
Expected<std::string> read_nv(ESYS_CONTEXT* esys, ESYS_TR index, ESYS_TR auth, UINT16 size) {
  std::string out;
  while (out.size() < size) {
    UINT16 chunk = static_cast<UINT16>(std::min<size_t>(512, size - out.size()));
    TPM2B_MAX_NV_BUFFER* data = nullptr;
    TSS2_RC rc = Esys_NV_Read(esys, auth, index, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                              chunk, static_cast<UINT16>(out.size()), &data);
    EsysPtr<TPM2B_MAX_NV_BUFFER> owner(data);
    if (rc != TSS2_RC_SUCCESS) return tss_error("reading the EK certificate (NV 0x01c00002)", rc);
    out.append(reinterpret_cast<const char*>(data->buffer), data->size);
    if (data->size == 0) break;
  }
  return out;
}

// Whether the NV index is defined (asked first: TR_FromTPMPublic on a missing index logs errors).
Expected<bool> nv_index_defined(ESYS_CONTEXT* esys, TPM2_HANDLE nv_index) {
  TPMI_YES_NO more = TPM2_NO;
  TPMS_CAPABILITY_DATA* raw = nullptr;
  TSS2_RC rc = Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                  nv_index, 1, &more, &raw);
  EsysPtr<TPMS_CAPABILITY_DATA> caps(raw);
  if (rc != TSS2_RC_SUCCESS) return tss_error("listing the TPM's NV indices", rc);
  return caps->data.handles.count == 1 && caps->data.handles.handle[0] == nv_index;
}

}  // namespace

Expected<std::optional<std::string>> read_ek_certificate(ESYS_CONTEXT* esys) {
  auto defined = nv_index_defined(esys, kEkCertRsaNvIndex);
  if (!defined) return defined.error();
  if (!*defined) return std::optional<std::string>();
  ESYS_TR index = ESYS_TR_NONE;
  TSS2_RC rc = Esys_TR_FromTPMPublic(esys, kEkCertRsaNvIndex, ESYS_TR_NONE, ESYS_TR_NONE,
                                     ESYS_TR_NONE, &index);
  if (rc != TSS2_RC_SUCCESS) return tss_error("opening the EK certificate's NV index", rc);
  TPM2B_NV_PUBLIC* nv_public = nullptr;
  rc = Esys_NV_ReadPublic(esys, index, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv_public,
                          nullptr);
  EsysPtr<TPM2B_NV_PUBLIC> nvp(nv_public);
  if (rc != TSS2_RC_SUCCESS) {
    Esys_TR_Close(esys, &index);
    return tss_error("reading the EK certificate's NV public area", rc);
  }
  // The profile sets AUTHREAD (empty auth) and OWNERREAD; prefer the index's own auth.
  const bool authread = nvp->nvPublic.attributes & TPMA_NV_AUTHREAD;
  auto der = read_nv(esys, index, authread ? index : ESYS_TR_RH_OWNER, nvp->nvPublic.dataSize);
  Esys_TR_Close(esys, &index);
  if (!der) return der.error();
  return std::optional<std::string>(std::move(*der));
}

}  // namespace seatlock::tpm
