// Seat-side quotes against swtpm, checked with the independent tpm2-tools: the signature and
// extraData verify with tpm2_checkquote, and the PCR values sent are what tpm2_pcrread reads.
#include <tss2/tss2_mu.h>

#include <iostream>

#include "core/attest/qualifying_data.hpp"
#include "core/attest/snapshot_digest.hpp"
#include "core/attest/wire.hpp"
#include "core/util/digest.hpp"
#include "tpm/seat_test_support.hpp"

using namespace seatlock;
using namespace seatlock::test;

namespace {

// TPM2B_ATTEST marshalled -> the TPMS_ATTEST bytes tpm2_checkquote -m reads.
std::string attest_message(const std::string& tpm2b_attest) {
  return tpm2b_attest.substr(2);
}

const std::string kNonce = "5eed00000000000000000000000000000000000000000000000000000000c0de";

}  // namespace

TEST_CASE("a quote verifies with tpm2_checkquote and carries the PCR values tpm2_pcrread reads",
          "[tpm][seat]") {
  Swtpm swtpm;
  const std::string dir = make_temp_dir("tpm-quote");
  // Something measured into PCRs 0 and 7, so the values are not all zeros.
  tpm2({"tpm2_pcrextend", "--tcti", swtpm.tcti(), "0:sha256=" + std::string(64, 'a'),
        "7:sha256=" + std::string(64, 'b')});

  auto seat = open_seat(swtpm, dir);
  firmware::Snapshot snap;
  snap.dmi["sys_vendor"] = "Dell Inc.";
  snap.secure_boot_var = std::string("\x06\x00\x00\x00\x01", 5);
  const auto snapshot = attest::snapshot_json(snap);
  const std::string digest = attest::snapshot_digest_hex(snapshot);
  auto qd = attest::qualifying_data(kNonce, digest);
  REQUIRE(qd.has_value());

  auto q = seat->quote(*qd);
  INFO((q ? "" : q.error().reason));
  REQUIRE(q.ok());
  std::cout << "seat-side quote time against swtpm: " << q->quote_ms << " ms\n";
  REQUIRE(q->pcrs_sha256.size() == 8);

  auto m = seat->enrollment();
  REQUIRE(m.ok());
  write_bytes(dir + "/ak.pub", m->ak_public);
  write_bytes(dir + "/quote.msg", attest_message(q->quote));
  write_bytes(dir + "/quote.sig", q->signature);
  tpm2({"tpm2_checkquote", "-u", dir + "/ak.pub", "-m", dir + "/quote.msg", "-s",
        dir + "/quote.sig", "-g", "sha256", "-q", hex_encode(*qd)});

  // Another nonce (a replay for a different challenge) does not check out.
  auto other_qd = attest::qualifying_data(std::string(64, '1'), digest);
  auto refused =
      run_command({"tpm2_checkquote", "-u", dir + "/ak.pub", "-m", dir + "/quote.msg", "-s",
                   dir + "/quote.sig", "-g", "sha256", "-q", hex_encode(*other_qd)});
  CHECK(refused.exit_code != 0);

  // PCR values: exactly what tpm2_pcrread reads (binary output: the 8 values in order).
  tpm2({"tpm2_pcrread", "--tcti", swtpm.tcti(), "sha256:0,1,2,3,4,5,6,7", "-o", dir + "/pcrs.bin"});
  const std::string reference = read_bytes(dir + "/pcrs.bin");
  REQUIRE(reference.size() == 8 * 32);
  for (int i = 0; i < 8; ++i)
    CHECK(hex_encode(q->pcrs_sha256.at(i)) == hex_encode(reference.substr(i * 32, 32)));
  CHECK(q->pcrs_sha256.at(0) != std::string(32, '\0'));

  // The request the collector receives carries the same bytes.
  attest::QuoteEvidence ev{kNonce,       snapshot,       digest,       q->quote,
                           q->signature, q->pcrs_sha256, std::nullopt, q->quote_ms};
  auto body = attest::quote_request(ev);
  CHECK(body["pcrs"]["sha256"]["7"] == hex_encode(reference.substr(7 * 32, 32)));
  CHECK(body["quote"] == base64_encode(q->quote));
  CHECK(body["event_log"].is_null());
}

TEST_CASE("the event log is read from the configured securityfs path", "[tpm][seat]") {
  Swtpm swtpm;
  const std::string dir = make_temp_dir("tpm-log");
  auto seat = open_seat(swtpm, dir);  // event log configured at <dir>/binary_bios_measurements

  auto absent = seat->event_log();
  CHECK_FALSE(absent.bytes.has_value());
  CHECK_THAT(absent.problem,
             Catch::Contains("no event log at " + dir + "/binary_bios_measurements"));

  std::string log(100'000, '\0');
  for (size_t i = 0; i < log.size(); ++i) log[i] = static_cast<char>(i * 7);
  write_bytes(dir + "/binary_bios_measurements", log);
  auto read = seat->event_log();
  REQUIRE(read.bytes.has_value());
  CHECK(*read.bytes == log);
}
