// A seat without a usable TPM says so, with the reason: never a quiet "fine".
#include "core/attest/unattested.hpp"
#include "tpm/seat_test_support.hpp"

using namespace seatlock;
using namespace seatlock::test;

TEST_CASE("no TPM device: unattested with the device named", "[tpm][seat]") {
  const std::string dir = make_temp_dir("tpm-none");
  auto r = tpm::open_tpm_attestor({"device:" + dir + "/tpmrm0", dir, ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "no-tpm-device");
  CHECK_THAT(r.error().reason, Catch::Contains(dir + "/tpmrm0 does not exist"));

  auto e = attest::unattested_event(r.error().code, r.error().reason, "device:" + dir + "/tpmrm0");
  CHECK(e.kind == "firmware.unattested");
  CHECK(e.severity == "medium");
  CHECK(e.details["attested"] == false);
  CHECK(e.details["code"] == "no-tpm-device");
  CHECK(e.details["reason"] == r.error().reason);
}

TEST_CASE("a TPM without a SHA-256 PCR bank cannot attest, and says why", "[tpm][seat]") {
  Swtpm sha1_only(SwtpmOptions{.with_ek_cert = false, .pcr_banks = "sha1"});
  const std::string dir = make_temp_dir("tpm-sha1");
  auto r = tpm::open_tpm_attestor({sha1_only.tcti(), dir, ""});
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().code == "no-sha256-bank");
  CHECK_THAT(r.error().reason, Catch::Contains("SHA-256 PCR bank"));
}

TEST_CASE("a TPM that does not answer is an error with the TCTI named", "[tpm][seat]") {
  std::string tcti;
  {
    Swtpm gone;
    tcti = gone.tcti();
  }  // stopped: nothing listens on its port any more
  const std::string dir = make_temp_dir("tpm-gone");
  auto r = tpm::open_tpm_attestor({tcti, dir, ""});
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.error().reason, Catch::Contains(tcti));
}

TEST_CASE("TPM response codes are told apart: failure mode, lockout, authorization",
          "[tpm][seat]") {
  // The codes a real TPM answers (TPM 2.0 Part 2, 6.6): with handle/parameter bits set too.
  CHECK(tpm::tss_error("quoting", 0x101).code == "tpm-failure-mode");  // TPM_RC_FAILURE
  CHECK(tpm::tss_error("quoting", 0x921).code == "tpm-lockout");       // TPM_RC_LOCKOUT
  CHECK(tpm::tss_error("activating", 0x98e).code == "tpm-auth");       // AUTH_FAIL, session 1
  CHECK(tpm::tss_error("activating", 0x9a2).code == "tpm-auth");       // BAD_AUTH, session 1
  CHECK(tpm::tss_error("loading", 0x1df).code == "tpm-error");         // INTEGRITY, param 1
  CHECK(tpm::tss_error("opening", 0xa000a).code == "tpm-error");       // a TCTI I/O error
  auto e = tpm::tss_error("quoting SHA-256 PCRs 0-7 with the AK", 0x921);
  CHECK_THAT(e.reason, Catch::StartsWith("quoting SHA-256 PCRs 0-7 with the AK: "));
  CHECK_THAT(e.reason, Catch::Contains("0x921") && Catch::Contains("dictionary-attack lockout"));
}

TEST_CASE("a TPM in dictionary-attack lockout gives no quote, and says so", "[tpm][seat]") {
  Swtpm swtpm;
  const std::string dir = make_temp_dir("tpm-lockout");
  auto seat = open_seat(swtpm, dir);
  REQUIRE(seat->quote(std::string(32, 'q')).ok());

  // One wrong password on a DA-protected key with maxTries=1 locks the TPM out.
  tpm2({"tpm2_dictionarylockout", "--tcti", swtpm.tcti(), "-s", "-n", "1", "-t", "600", "-l",
        "600"});
  tpm2({"tpm2_createprimary", "--tcti", swtpm.tcti(), "-C", "o", "-G", "ecc", "-p", "right", "-c",
        dir + "/primary.ctx"});
  CHECK(run_command({"tpm2_create", "--tcti", swtpm.tcti(), "-C", dir + "/primary.ctx", "-P",
                     "wrong", "-G", "ecc", "-u", dir + "/k.pub", "-r", dir + "/k.priv"})
            .exit_code != 0);

  auto q = seat->quote(std::string(32, 'q'));
  REQUIRE_FALSE(q.ok());
  CHECK(q.error().code == "tpm-lockout");
  CHECK_THAT(q.error().reason, Catch::Contains("dictionary-attack lockout"));
}
