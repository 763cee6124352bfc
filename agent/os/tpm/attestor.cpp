#include "os/tpm/attestor.hpp"

#include <openssl/sha.h>
#include <tss2/tss2_mu.h>

#include <chrono>
#include <cstring>

#include "os/tpm/ak.hpp"
#include "os/tpm/ek.hpp"
#include "os/tpm/esys_connection.hpp"

namespace seatlock::tpm {

namespace {

template <class T, class Fn>
std::string marshal(const T& value, Fn fn) {
  std::string out(sizeof(T) + 16, '\0');
  size_t off = 0;
  fn(&value, reinterpret_cast<uint8_t*>(out.data()), out.size(), &off);
  out.resize(off);
  return out;
}

template <class T>
std::string bytes_of(const T& tpm2b) {
  return std::string(reinterpret_cast<const char*>(tpm2b.buffer), tpm2b.size);
}

TPML_PCR_SELECTION pcrs_0_to_7() {
  TPML_PCR_SELECTION sel{};
  sel.count = 1;
  sel.pcrSelections[0].hash = TPM2_ALG_SHA256;
  sel.pcrSelections[0].sizeofSelect = 3;
  sel.pcrSelections[0].pcrSelect[0] = 0xff;
  return sel;
}

// Flushes a transient object or session when it goes out of scope.
struct Flush {
  ESYS_CONTEXT* esys;
  ESYS_TR handle;
  ~Flush() {
    if (handle != ESYS_TR_NONE) Esys_FlushContext(esys, handle);
  }
};

class EsysAttestor final : public TpmAttestor {
 public:
  EsysAttestor(std::unique_ptr<EsysConnection> tpm, Ak ak, TpmConfig config)
      : tpm_(std::move(tpm)), ak_(ak), config_(std::move(config)) {}
  ~EsysAttestor() override { Esys_FlushContext(tpm_->esys(), ak_.handle); }

  Expected<attest::EnrollmentMaterial> enrollment() override {
    auto ek = create_ek(tpm_->esys());
    if (!ek) return ek.error();
    Flush flush{tpm_->esys(), ek->handle};
    auto cert = read_ek_certificate(tpm_->esys());
    if (!cert) return cert.error();
    attest::EnrollmentMaterial m;
    m.ek_public = marshal(ek->public_area, Tss2_MU_TPM2B_PUBLIC_Marshal);
    m.ek_cert = *cert;
    m.ak_public = marshal(ak_.public_area, Tss2_MU_TPM2B_PUBLIC_Marshal);
    m.ak_name = marshal(ak_.name, Tss2_MU_TPM2B_NAME_Marshal);
    return m;
  }

  Expected<std::string> activate_credential(const std::string& credential_blob,
                                            const std::string& encrypted_secret) override {
    TPM2B_ID_OBJECT blob{};
    TPM2B_ENCRYPTED_SECRET secret{};
    size_t off = 0;
    if (Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(reinterpret_cast<const uint8_t*>(credential_blob.data()),
                                          credential_blob.size(), &off, &blob) != TSS2_RC_SUCCESS ||
        off != credential_blob.size())
      return TpmError{"bad-credential", "credential_blob is not a marshalled TPM2B_ID_OBJECT"};
    off = 0;
    if (Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(
            reinterpret_cast<const uint8_t*>(encrypted_secret.data()), encrypted_secret.size(),
            &off, &secret) != TSS2_RC_SUCCESS ||
        off != encrypted_secret.size())
      return TpmError{"bad-credential",
                      "encrypted_secret is not a marshalled TPM2B_ENCRYPTED_SECRET"};

    ESYS_CONTEXT* esys = tpm_->esys();
    auto ek = create_ek(esys);
    if (!ek) return ek.error();
    Flush ek_flush{esys, ek->handle};
    // The EK's authPolicy is PolicySecret(TPM_RH_ENDORSEMENT): satisfy it in a policy session.
    TPMT_SYM_DEF no_sym{};
    no_sym.algorithm = TPM2_ALG_NULL;
    ESYS_TR session = ESYS_TR_NONE;
    TSS2_RC rc = Esys_StartAuthSession(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                       ESYS_TR_NONE, nullptr, TPM2_SE_POLICY, &no_sym,
                                       TPM2_ALG_SHA256, &session);
    if (rc != TSS2_RC_SUCCESS) return tss_error("starting the EK policy session", rc);
    Flush session_flush{esys, session};
    TPM2B_TIMEOUT* timeout = nullptr;
    TPMT_TK_AUTH* ticket = nullptr;
    TPM2B_NONCE nonce_tpm{};
    TPM2B_DIGEST cp_hash{};
    TPM2B_NONCE policy_ref{};
    rc = Esys_PolicySecret(esys, ESYS_TR_RH_ENDORSEMENT, session, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                           ESYS_TR_NONE, &nonce_tpm, &cp_hash, &policy_ref, 0, &timeout, &ticket);
    Esys_Free(timeout);
    Esys_Free(ticket);
    if (rc != TSS2_RC_SUCCESS) return tss_error("PolicySecret(TPM_RH_ENDORSEMENT) for the EK", rc);

    TPM2B_DIGEST* cert_info = nullptr;
    rc = Esys_ActivateCredential(esys, ak_.handle, ek->handle, ESYS_TR_PASSWORD, session,
                                 ESYS_TR_NONE, &blob, &secret, &cert_info);
    EsysPtr<TPM2B_DIGEST> owner(cert_info);
    if (rc == TSS2_RC_SUCCESS) session_flush.handle = ESYS_TR_NONE;  // used up, not continued
    if (rc != TSS2_RC_SUCCESS)
      return tss_error("activating the credential (made for another EK or AK?)", rc);
    return bytes_of(*cert_info);
  }

  Expected<TpmQuote> quote(const std::string& qualifying_data) override {
    if (qualifying_data.empty() || qualifying_data.size() > sizeof(TPM2B_DATA::buffer))
      return TpmError{"bad-request", "qualifying data must be 1..64 bytes"};
    // PCRs are read separately from the quote; should one change in between (a measurement
    // during the quote), the values would not match the quote's pcrDigest: try again.
    TpmError last{"tpm-error", ""};
    for (int attempt = 0; attempt < 3; ++attempt) {
      auto q = quote_once(qualifying_data);
      if (q || q.error().code != "pcr-race") return q;
      last = q.error();
    }
    return last;
  }

  EventLogRead event_log() override { return read_event_log(config_.event_log_path); }
  bool ak_created() const override { return ak_.created; }

 private:
  Expected<std::map<int, std::string>> read_pcrs() {
    std::map<int, std::string> values;
    TPML_PCR_SELECTION want = pcrs_0_to_7();
    while (want.pcrSelections[0].pcrSelect[0] != 0) {
      UINT32 counter = 0;
      TPML_PCR_SELECTION* got = nullptr;
      TPML_DIGEST* digests = nullptr;
      TSS2_RC rc = Esys_PCR_Read(tpm_->esys(), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &want,
                                 &counter, &got, &digests);
      EsysPtr<TPML_PCR_SELECTION> g(got);
      EsysPtr<TPML_DIGEST> d(digests);
      if (rc != TSS2_RC_SUCCESS) return tss_error("reading SHA-256 PCRs 0-7", rc);
      if (got->count != 1 || got->pcrSelections[0].pcrSelect[0] == 0)
        return TpmError{"no-sha256-bank", "the TPM returned no SHA-256 PCR values"};
      UINT32 k = 0;
      for (int i = 0; i < 8; ++i)
        if (got->pcrSelections[0].pcrSelect[0] & (1u << i)) {
          if (k >= digests->count)
            return TpmError{"tpm-error", "PCR_Read: fewer digests than PCRs"};
          values[i] = bytes_of(digests->digests[k++]);
          want.pcrSelections[0].pcrSelect[0] &= static_cast<BYTE>(~(1u << i));
        }
    }
    return values;
  }

  Expected<TpmQuote> quote_once(const std::string& qualifying_data) {
    auto started = std::chrono::steady_clock::now();
    auto pcrs = read_pcrs();
    if (!pcrs) return pcrs.error();
    TPM2B_DATA qd{};
    qd.size = static_cast<UINT16>(qualifying_data.size());
    std::memcpy(qd.buffer, qualifying_data.data(), qualifying_data.size());
    TPMT_SIG_SCHEME scheme{};
    scheme.scheme = TPM2_ALG_NULL;  // the AK's own scheme (ECDSA/SHA-256)
    TPML_PCR_SELECTION sel = pcrs_0_to_7();
    TPM2B_ATTEST* quoted = nullptr;
    TPMT_SIGNATURE* signature = nullptr;
    TSS2_RC rc = Esys_Quote(tpm_->esys(), ak_.handle, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                            &qd, &scheme, &sel, &quoted, &signature);
    EsysPtr<TPM2B_ATTEST> q(quoted);
    EsysPtr<TPMT_SIGNATURE> s(signature);
    if (rc != TSS2_RC_SUCCESS) return tss_error("quoting SHA-256 PCRs 0-7 with the AK", rc);
    TpmQuote out;
    out.quote_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
            .count();

    TPMS_ATTEST attest{};
    size_t off = 0;
    if (Tss2_MU_TPMS_ATTEST_Unmarshal(quoted->attestationData, quoted->size, &off, &attest) !=
        TSS2_RC_SUCCESS)
      return TpmError{"tpm-error", "the TPM's quote does not unmarshal as TPMS_ATTEST"};
    std::string concatenated;
    for (const auto& [index, value] : *pcrs) concatenated += value;
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(concatenated.data()), concatenated.size(),
           digest);
    const TPM2B_DIGEST& quoted_digest = attest.attested.quote.pcrDigest;
    if (quoted_digest.size != sizeof digest ||
        std::memcmp(quoted_digest.buffer, digest, sizeof digest) != 0)
      return TpmError{"pcr-race", "a PCR changed between PCR_Read and Quote"};

    out.quote = marshal(*quoted, Tss2_MU_TPM2B_ATTEST_Marshal);
    out.signature = marshal(*signature, Tss2_MU_TPMT_SIGNATURE_Marshal);
    out.pcrs_sha256 = std::move(*pcrs);
    return out;
  }

  std::unique_ptr<EsysConnection> tpm_;
  Ak ak_;
  TpmConfig config_;
};

}  // namespace

Expected<std::unique_ptr<TpmAttestor>> open_tpm_attestor(const TpmConfig& config) {
  if (config.state_dir.empty())
    return TpmError{"state-dir", "no state dir configured for the attestation key"};
  auto tpm = EsysConnection::open(config.tcti);
  if (!tpm) return tpm.error();
  auto ak = load_or_create_ak((*tpm)->esys(), config.state_dir);
  if (!ak) return ak.error();
  return std::unique_ptr<TpmAttestor>(new EsysAttestor(std::move(*tpm), *ak, config));
}

}  // namespace seatlock::tpm
