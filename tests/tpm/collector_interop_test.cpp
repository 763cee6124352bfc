// Both halves of issue 17 together: the seat's own TPM adapter (agent/os/tpm, ESAPI, as
// seatlockd runs it) and wire code (agent/core/attest) against the collector's Attestor, on a
// swtpm whose PCRs carry a synthetic UEFI boot.
#include <catch2/catch.hpp>
#include <filesystem>

#include "attest/attest_store.hpp"
#include "attest/attestor.hpp"
#include "core/attest/qualifying_data.hpp"
#include "core/attest/snapshot_digest.hpp"
#include "core/attest/wire.hpp"
#include "os/tpm/attestor.hpp"
#include "tpm/collector_tpm_support.hpp"

using namespace seatlock::test;
using namespace seatlock::test::col;
using nlohmann::json;
namespace at = seatlock::collector::attest;
namespace seat_wire = seatlock::attest;

TEST_CASE("seatlockd's TPM adapter enrolls and attests at the collector", "[tpm][collector]") {
  Swtpm tpm;
  std::string state = tpm.dir() + "/seat-state";
  auto log = EventLogBuilder::typical();
  log.extend_into(tpm);
  std::filesystem::create_directories(state);
  spit(state + "/binary_bios_measurements", log.bytes());
  auto opened =
      seatlock::tpm::open_tpm_attestor({tpm.tcti(), state, state + "/binary_bios_measurements"});
  REQUIRE(opened.ok());
  auto& seat = **opened;

  std::string dir = make_temp_dir("attest-interop");
  at::AttestStore store(dir + "/c.db.attest");
  at::Attestor collector(store, {});

  // Enrollment and activation, through the seat's wire functions.
  auto material = seat.enrollment();
  REQUIRE(material.ok());
  json answer = collector.enroll("seat-9", seat_wire::enroll_request(*material));
  std::string error;
  auto parsed = seat_wire::parse_enroll_answer(answer, error);
  INFO(error);
  REQUIRE(parsed);
  auto secret = seat.activate_credential(parsed->credential_blob, parsed->encrypted_secret);
  REQUIRE(secret.ok());
  auto act = collector.activate("seat-9", seat_wire::activate_request(parsed->enrollment, *secret));
  INFO(act.message);
  REQUIRE(act.status == 200);

  auto attest = [&](const json& snapshot) {
    auto nonce = seat_wire::parse_challenge(collector.challenge("seat-9"), error);
    REQUIRE(nonce);
    seat_wire::QuoteEvidence ev;
    ev.nonce_hex = *nonce;
    ev.snapshot = snapshot;
    ev.snapshot_digest_hex = seat_wire::snapshot_digest_hex(snapshot);
    auto q = seat.quote(*seat_wire::qualifying_data(ev.nonce_hex, ev.snapshot_digest_hex));
    REQUIRE(q.ok());
    ev.quote = q->quote;
    ev.signature = q->signature;
    ev.pcrs_sha256 = q->pcrs_sha256;
    ev.event_log = seat.event_log().bytes;
    ev.quote_ms = q->quote_ms;
    return collector.quote("seat-9", seat_wire::quote_request(ev));
  };
  json snapshot = {{"format", seat_wire::kSnapshotFormat},
                   {"dmi", {{"sys_vendor", "QEMU"}}},
                   {"settings", json::object()}};
  json v = attest(snapshot);
  INFO(v.dump(2));
  CHECK(v["result"] == "drift");  // proven, no baseline yet
  CHECK(v["measured"]["secure_boot"] == "on");
  collector.baseline_from_last("seat-9", "IMG-1");
  json v2 = attest(snapshot);
  INFO(v2.dump(2));
  CHECK(v2["result"] == "verified");
  CHECK(v2["seat_quote_ms"].get<double>() > 0);
}
