// What seatlockd records about its attestation rounds (core/attest/round_report): the verdict
// event, and the gate that keeps one unattested reason from being recorded every interval.
#include <catch2/catch.hpp>

#include "core/attest/round_report.hpp"

using namespace seatlock::attest;
using nlohmann::json;

TEST_CASE("the collector's verdict becomes a local event, and only verified is info",
          "[tpm][attest]") {
  json verdict = {{"result", "drift"},
                  {"reasons", json::array()},
                  {"differences", {"secure_boot: baseline on, measured off"}},
                  {"ek_cert_status", "absent"},
                  {"seat_quote_ms", 12.5},
                  {"time", "2026-12-01T10:00:00Z"}};
  auto e = verdict_event(verdict, "device:/dev/tpmrm0");
  CHECK(e.kind == "firmware.attestation_verdict");
  CHECK(e.severity == "high");
  CHECK(e.outcome == "detected");
  CHECK(e.details["result"] == "drift");
  CHECK(e.details["differences"][0] == "secure_boot: baseline on, measured off");
  CHECK(e.details["quote_ms"] == 12.5);
  CHECK(e.details["tcti"] == "device:/dev/tpmrm0");

  verdict["result"] = "verified";
  CHECK(verdict_event(verdict, "x").severity == "info");
  CHECK(verdict_event(verdict, "x").outcome == "reported");
  // Whatever a collector might answer, only "verified" is fine.
  CHECK(verdict_event(json::object(), "x").severity == "high");
  CHECK(verdict_event(json::object(), "x").details["result"] == "unknown");
}

TEST_CASE("an unattested reason is recorded once, again after a success or another reason",
          "[tpm][attest]") {
  UnattestedGate gate;
  CHECK(gate.should_report("no-tpm-device", "no TPM at /dev/tpmrm0"));
  CHECK_FALSE(gate.should_report("no-tpm-device", "no TPM at /dev/tpmrm0"));
  // The same curl failure with another timing is the same reason.
  CHECK(gate.should_report("collector-unreachable",
                           "challenge: Failed to connect to c port 443 after 3001 ms: refused"));
  CHECK_FALSE(gate.should_report("collector-unreachable",
                                 "challenge: Failed to connect to c port 443 after 2 ms: refused"));
  CHECK(gate.should_report("collector-refused", "quote: HTTP 403 forbidden"));
  CHECK(gate.should_report("collector-unreachable",
                           "challenge: Failed to connect to c port 443 after 5 ms: refused"));
  gate.attested();
  CHECK(gate.should_report("collector-unreachable",
                           "challenge: Failed to connect to c port 443 after 5 ms: refused"));
}
