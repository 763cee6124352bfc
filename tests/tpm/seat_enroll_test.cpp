// Seat side of enrollment against swtpm: the AK is created once and survives restarts, the EK
// certificate is read from NV, and credential activation proves AK and EK share one TPM.
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <tss2/tss2_mu.h>

#include "core/util/digest.hpp"
#include "os/tpm/ak.hpp"
#include "tpm/seat_test_support.hpp"

using namespace seatlock;
using namespace seatlock::test;

namespace {

TPM2B_PUBLIC unmarshal_public(const std::string& bytes) {
  TPM2B_PUBLIC pub{};
  size_t off = 0;
  REQUIRE(Tss2_MU_TPM2B_PUBLIC_Unmarshal(reinterpret_cast<const uint8_t*>(bytes.data()),
                                         bytes.size(), &off, &pub) == TSS2_RC_SUCCESS);
  REQUIRE(off == bytes.size());
  return pub;
}

// TPM2B_NAME marshalled -> the hex of the raw name, as tpm2_makecredential -n takes it.
std::string raw_name_hex(const std::string& marshalled) {
  return hex_encode(marshalled.substr(2));
}

// tpm2_makecredential's output file: magic, version, then TPM2B_ID_OBJECT, TPM2B_ENCRYPTED_SECRET.
std::pair<std::string, std::string> split_credential_file(const std::string& file) {
  REQUIRE(file.size() > 8);
  const auto* buf = reinterpret_cast<const uint8_t*>(file.data());
  size_t off = 8;
  TPM2B_ID_OBJECT blob{};
  TPM2B_ENCRYPTED_SECRET secret{};
  size_t start = off;
  REQUIRE(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(buf, file.size(), &off, &blob) == TSS2_RC_SUCCESS);
  std::string blob_bytes = file.substr(start, off - start);
  start = off;
  REQUIRE(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(buf, file.size(), &off, &secret) ==
          TSS2_RC_SUCCESS);
  return {blob_bytes, file.substr(start, off - start)};
}

// What the collector would do: a credential for (EK public, AK name) made without the TPM.
std::pair<std::string, std::string> make_credential(const std::string& dir,
                                                    const std::string& ek_public,
                                                    const std::string& ak_name,
                                                    const std::string& secret) {
  write_bytes(dir + "/ek.pub", ek_public);
  write_bytes(dir + "/secret", secret);
  tpm2({"tpm2_makecredential", "--tcti", "none", "-u", dir + "/ek.pub", "-s", dir + "/secret", "-n",
        raw_name_hex(ak_name), "-o", dir + "/cred.out"});
  return split_credential_file(read_bytes(dir + "/cred.out"));
}

}  // namespace

TEST_CASE("the AK is created once, stored 0600, and the same AK is loaded after a restart",
          "[tpm][seat]") {
  Swtpm swtpm;
  const std::string state = make_temp_dir("tpm-seat-state");
  std::string first_name, first_public;
  {
    auto seat = open_seat(swtpm, state);
    CHECK(seat->ak_created());
    auto m = seat->enrollment();
    REQUIRE(m.ok());
    first_name = m->ak_name;
    first_public = m->ak_public;
    auto ak = unmarshal_public(m->ak_public);
    CHECK(ak.publicArea.type == TPM2_ALG_ECC);
    CHECK((ak.publicArea.objectAttributes & TPMA_OBJECT_RESTRICTED) != 0);
    CHECK((ak.publicArea.objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT) != 0);
  }
  const std::string blob = state + "/" + tpm::kAkBlobName;
  CHECK(file_mode(blob) == 0600);
  const std::string stored = read_bytes(blob);

  swtpm.stop();  // the seat reboots: the TPM loses every transient object
  swtpm.start();
  auto seat = open_seat(swtpm, state);
  CHECK_FALSE(seat->ak_created());
  auto m = seat->enrollment();
  REQUIRE(m.ok());
  CHECK(m->ak_name == first_name);
  CHECK(m->ak_public == first_public);
  CHECK(read_bytes(blob) == stored);
}

TEST_CASE("a stored AK that the TPM cannot load is an error, not a silent new key", "[tpm][seat]") {
  const std::string state = make_temp_dir("tpm-seat-state");
  {
    Swtpm first;
    open_seat(first, state);
  }
  Swtpm other;  // another TPM (other owner seed) finds the first one's AK blob
  auto r = tpm::open_tpm_attestor({other.tcti(), state, ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "ak-unloadable");
  CHECK_THAT(r.error().reason, Catch::Contains(tpm::kAkBlobName));
}

TEST_CASE("the EK certificate is read from NV 0x01c00002 and certifies the EK", "[tpm][seat]") {
  Swtpm swtpm(SwtpmOptions{.with_ek_cert = true, .pcr_banks = ""});
  auto seat = open_seat(swtpm, make_temp_dir("tpm-seat-state"));
  auto m = seat->enrollment();
  REQUIRE(m.ok());
  REQUIRE(m->ek_cert.has_value());
  const auto* der = reinterpret_cast<const unsigned char*>(m->ek_cert->data());
  X509* cert = d2i_X509(nullptr, &der, static_cast<long>(m->ek_cert->size()));
  REQUIRE(cert != nullptr);
  // The certified key is the EK the seat sends: same RSA modulus.
  EVP_PKEY* key = X509_get0_pubkey(cert);
  BIGNUM* n = nullptr;
  REQUIRE(EVP_PKEY_get_bn_param(key, "n", &n) == 1);
  std::string modulus(static_cast<size_t>(BN_num_bytes(n)), '\0');
  BN_bn2bin(n, reinterpret_cast<unsigned char*>(modulus.data()));
  auto ek = unmarshal_public(m->ek_public);
  CHECK(modulus == std::string(reinterpret_cast<const char*>(ek.publicArea.unique.rsa.buffer),
                               ek.publicArea.unique.rsa.size));
  BN_free(n);
  X509_free(cert);

  Swtpm plain;  // a TPM without a certificate: ek_cert is null, not an error
  auto m2 = open_seat(plain, make_temp_dir("tpm-seat-state"))->enrollment();
  REQUIRE(m2.ok());
  CHECK_FALSE(m2->ek_cert.has_value());
}

TEST_CASE("credential activation succeeds for this TPM's EK and fails for another TPM's",
          "[tpm][seat]") {
  Swtpm swtpm, other;
  const std::string dir = make_temp_dir("tpm-cred");
  auto seat = open_seat(swtpm, dir);
  auto m = seat->enrollment();
  REQUIRE(m.ok());
  const std::string secret = "collector-secret-0123456789abcde";

  auto [blob, encrypted] = make_credential(dir, m->ek_public, m->ak_name, secret);
  auto activated = seat->activate_credential(blob, encrypted);
  INFO((activated ? "" : activated.error().reason));
  REQUIRE(activated.ok());
  CHECK(*activated == secret);

  // Same AK name, but wrapped for another TPM's EK: this TPM cannot recover the secret.
  auto other_m = open_seat(other, make_temp_dir("tpm-seat-state"))->enrollment();
  REQUIRE(other_m.ok());
  auto [blob2, encrypted2] = make_credential(dir, other_m->ek_public, m->ak_name, secret);
  auto refused = seat->activate_credential(blob2, encrypted2);
  REQUIRE_FALSE(refused.ok());
  CHECK_THAT(refused.error().reason, Catch::Contains("activating the credential"));

  // Made for this EK but for another key's name: refused too.
  auto [blob3, encrypted3] = make_credential(dir, m->ek_public, other_m->ak_name, secret);
  CHECK_FALSE(seat->activate_credential(blob3, encrypted3).ok());
}
