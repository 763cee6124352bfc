// Collector side of TPM attestation (issue 17) against real TPM output: a private swtpm driven
// by tpm2-tools plays the seat; the collector's Attestor enrolls it, pins its AK and judges its
// quotes and event logs.
#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>

#include "attest/attest_store.hpp"
#include "attest/attestor.hpp"
#include "attest/make_credential.hpp"
#include "attest/quote.hpp"
#include "core/event/event.hpp"
#include "tpm/collector_tpm_support.hpp"

using namespace seatlock;
using namespace seatlock::test;
using namespace seatlock::test::col;
using nlohmann::json;
namespace at = seatlock::collector::attest;

namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (size_t i = 0; i + 1 < h.size(); i += 2) out += char(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

// The collector under test: its attestation store in a temp dir.
struct Collector {
  std::string dir = make_temp_dir("attest-col");
  at::AttestStore store{dir + "/collector.db.attest"};
  at::Attestor attestor{store, {}};
};

// Enrolls the seat end to end: MakeCredential, activation in the seat's TPM, pinning.
void enroll(Collector& c, const ToolSeat& seat, const std::string& seat_id) {
  json answer = c.attestor.enroll(seat_id, seat.enroll_request());
  REQUIRE(answer["ek_cert_status"] == "absent");
  std::string blob, secret;
  REQUIRE(base64_decode(answer["credential_blob"].get<std::string>(), blob));
  REQUIRE(base64_decode(answer["encrypted_secret"].get<std::string>(), secret));
  std::string activated = seat.activate(blob, secret);
  REQUIRE(activated.rfind("FAILED", 0) != 0);
  auto r = c.attestor.activate(
      seat_id, {{"enrollment", answer["enrollment"]}, {"secret", base64_encode(activated)}});
  INFO(r.message);
  REQUIRE(r.status == 200);
}

json snapshot() {
  return {{"dmi", {{"sys_vendor", "QEMU"}}}, {"settings", {{"thinklmi/AdminPassword", "set"}}}};
}

// What a seat sends: challenge answered with a quote of `quoter` binding nonce + snapshot.
json quote_request(Collector& c, const std::string& seat_id, const ToolSeat& quoter,
                   const std::string& event_log, const json& snap = snapshot()) {
  json ch = c.attestor.challenge(seat_id);
  std::string nonce = unhex(ch["nonce"]);
  std::string snap_digest = unhex(sha256_hex(canonical_bytes(snap)));
  auto q = quoter.quote(at::qualifying_data(nonce, snap_digest));
  return {{"nonce", ch["nonce"]},
          {"snapshot_digest", hex_encode(snap_digest)},
          {"snapshot", snap},
          {"quote", base64_encode(q.attest)},
          {"signature", base64_encode(q.signature)},
          {"pcrs", q.pcrs},
          {"event_log", event_log.empty() ? json() : json(base64_encode(event_log))},
          {"quote_ms", 3}};
}

std::string reasons(const json& v) {
  return v["reasons"].dump() + " " + v["differences"].dump();
}

}  // namespace

TEST_CASE(
    "collector MakeCredential is activated by the TPM holding the EK, like tpm2_makecredential's",
    "[tpm][collector]") {
  Swtpm tpm;
  ToolSeat seat(tpm);
  TPM2B_PUBLIC ek = at::unmarshal_public(seat.ek_public(), "ek");
  std::string secret = "0123456789abcdef0123456789abcdef";
  auto cred = at::make_credential(ek.publicArea, seat.ak_name(), secret);
  CHECK(seat.activate(cred.credential_blob, cred.encrypted_secret) == secret);

  // The reference: tpm2-tools' software MakeCredential, activated by the same TPM.
  spit(tpm.dir() + "/secret.bin", secret);
  tool_ok(nullptr,
          {"tpm2_makecredential", "-e", tpm.dir() + "/ek.pub", "-s", tpm.dir() + "/secret.bin",
           "-n", hex_encode(seat.ak_name()), "-o", tpm.dir() + "/ref.cred"});
  CHECK(seat.activate_file(tpm.dir() + "/ref.cred") == secret);
}

TEST_CASE("collector MakeCredential for another TPM's EK does not activate", "[tpm][collector]") {
  Swtpm tpm_a, tpm_b;
  ToolSeat a(tpm_a), b(tpm_b);
  TPM2B_PUBLIC ek_b = at::unmarshal_public(b.ek_public(), "ek");
  // A credential for A's AK name under B's EK: only B's TPM could open it, and B has no such AK.
  auto cred = at::make_credential(ek_b.publicArea, a.ak_name(), std::string(32, 'k'));
  CHECK(a.activate(cred.credential_blob, cred.encrypted_secret).rfind("FAILED", 0) == 0);
  CHECK(b.activate(cred.credential_blob, cred.encrypted_secret).rfind("FAILED", 0) == 0);
}

TEST_CASE("collector pins the AK only when the activated secret comes back", "[tpm][collector]") {
  Swtpm tpm;
  ToolSeat seat(tpm);
  Collector c;
  json answer = c.attestor.enroll("seat-1", seat.enroll_request());
  SECTION("wrong secret: 403, nothing pinned") {
    auto r = c.attestor.activate("seat-1", {{"enrollment", answer["enrollment"]},
                                            {"secret", base64_encode(std::string(32, 'x'))}});
    CHECK(r.status == 403);
    CHECK_FALSE(c.store.pinned_ak("seat-1"));
  }
  SECTION("another seat presenting the enrollment: 403") {
    auto r = c.attestor.activate("seat-2", {{"enrollment", answer["enrollment"]},
                                            {"secret", base64_encode(std::string(32, 'x'))}});
    CHECK(r.status == 403);
  }
  SECTION("an ak_name that is not the AK's: refused at enrollment") {
    json req = seat.enroll_request();
    std::string other = seat.ak_name_2b();
    other.back() ^= 1;
    req["ak_name"] = base64_encode(other);
    CHECK_THROWS_WITH(c.attestor.enroll("seat-1", req), Catch::Contains("not the name"));
  }
  SECTION("the right secret pins the AK") {
    std::string blob, sec;
    base64_decode(answer["credential_blob"].get<std::string>(), blob);
    base64_decode(answer["encrypted_secret"].get<std::string>(), sec);
    auto r = c.attestor.activate("seat-1", {{"enrollment", answer["enrollment"]},
                                            {"secret", base64_encode(seat.activate(blob, sec))}});
    CHECK(r.status == 200);
    REQUIRE(c.store.pinned_ak("seat-1"));
    CHECK(c.store.pinned_ak("seat-1")->ak_public == base64_encode(seat.ak_public()));
  }
}

TEST_CASE("collector verifies a quote with its event log and refuses a replayed nonce",
          "[tpm][collector]") {
  auto ak_alg = GENERATE(std::string("ecc"), std::string("rsa"));
  Swtpm tpm;
  ToolSeat seat(tpm, ak_alg);
  Collector c;
  enroll(c, seat, "seat-1");
  auto log = EventLogBuilder::typical();
  log.extend_into(tpm);

  json req = quote_request(c, "seat-1", seat, log.bytes());
  json v = c.attestor.quote("seat-1", req);
  INFO(v.dump(2));
  // First attestation: proven, but no baseline yet -> drift saying so.
  CHECK(v["result"] == "drift");
  CHECK(v["differences"][0].get<std::string>().find("no boot baseline") != std::string::npos);
  CHECK(v["measured"]["secure_boot"] == "on");
  CHECK(v["measured"]["boot_order"] == "0001,0002");
  CHECK(v["measured"]["boot_entries"]["Boot0001"].get<std::string>().rfind("debian sha256:", 0) ==
        0);
  CHECK(v["measured"]["secure_boot_db"].size() == 4);
  CHECK(v["measured"]["firmware"].size() == 3);
  CHECK(v["reported_by_seat"]["note"].get<std::string>().find("admin password") !=
        std::string::npos);

  at::Attestor(c.store, {}).baseline_from_last("seat-1", "IMG-1");
  json v2 = c.attestor.quote("seat-1", quote_request(c, "seat-1", seat, log.bytes()));
  INFO(v2.dump(2));
  CHECK(v2["result"] == "verified");
  std::printf("collector verification CPU (%s AK, quote + replay + evaluation): %.3f ms\n",
              ak_alg.c_str(), v2["verify_cpu_ms"].get<double>());

  // The same request again: its nonce is spent.
  json replay = c.attestor.quote("seat-1", req);
  CHECK(replay["result"] == "failed");
  CHECK(reasons(replay).find("nonce unknown or already used") != std::string::npos);
  // A nonce issued to another seat does not serve this one.
  json other = quote_request(c, "seat-2", seat, log.bytes());
  CHECK(reasons(c.attestor.quote("seat-1", other)).find("another seat") != std::string::npos);
  // Every verdict is recorded, newest first.
  auto rows = c.store.verdicts("seat-1");
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].result == "failed");
  CHECK(rows[2].result == "verified");
}

TEST_CASE("collector refuses a quote signed by another TPM's AK", "[tpm][collector]") {
  Swtpm tpm_a, tpm_b;
  ToolSeat a(tpm_a), b(tpm_b);
  Collector c;
  enroll(c, a, "seat-1");
  json v = c.attestor.quote("seat-1", quote_request(c, "seat-1", b, ""));
  CHECK(v["result"] == "failed");
  CHECK(reasons(v).find("does not verify with the seat's pinned AK") != std::string::npos);
}

TEST_CASE("collector refuses a quote whose snapshot or PCR values were changed",
          "[tpm][collector]") {
  Swtpm tpm;
  ToolSeat seat(tpm);
  Collector c;
  enroll(c, seat, "seat-1");
  auto log = EventLogBuilder::typical();
  log.extend_into(tpm);
  json req = quote_request(c, "seat-1", seat, log.bytes());
  SECTION("a seat lying about its firmware snapshot after quoting") {
    req["snapshot"]["settings"]["thinklmi/AdminPassword"] = "not set";
    req["snapshot_digest"] = sha256_hex(canonical_bytes(req["snapshot"]));
    CHECK(reasons(c.attestor.quote("seat-1", req)).find("qualifying data") != std::string::npos);
  }
  SECTION("PCR values edited") {
    req["pcrs"]["sha256"]["7"] = std::string(64, '0');
    CHECK(reasons(c.attestor.quote("seat-1", req)).find("quoted PCR digest") != std::string::npos);
  }
  SECTION("no event log") {
    req["event_log"] = nullptr;
    json v = c.attestor.quote("seat-1", req);
    CHECK(v["result"] == "failed");
    CHECK(reasons(v).find("no event log") != std::string::npos);
  }
}

TEST_CASE("collector detects a tampered event log", "[tpm][collector]") {
  Swtpm tpm;
  ToolSeat seat(tpm);
  Collector c;
  enroll(c, seat, "seat-1");
  auto log = EventLogBuilder::typical(/*secure_boot_on=*/false);
  log.extend_into(tpm);  // the TPM holds the truth: Secure Boot off

  auto tampered = log;
  std::string expect;
  SECTION("Secure Boot event rewritten to 'on', digest left as measured") {
    auto& sb = tampered.events()[3];
    sb.data.back() = 1;
    expect = "does not match its digest";
  }
  SECTION("Secure Boot event rewritten to 'on' with a matching digest") {
    auto& sb = tampered.events()[3];
    sb.data.back() = 1;
    sb.digest = at::sha256(sb.data);
    expect = "does not replay to the quoted PCR 7";
  }
  SECTION("one byte of a firmware measurement changed") {
    tampered.events()[0].digest[5] ^= 0x01;
    expect = "does not replay to the quoted PCR 0";
  }
  SECTION("an event dropped") {
    tampered.events().erase(tampered.events().begin() + 9);  // Boot0001
    expect = "does not replay to the quoted PCR 1";
  }
  SECTION("truncated in the middle of an event") {
    json v = c.attestor.quote(
        "seat-1", quote_request(c, "seat-1", seat, log.bytes().substr(0, log.bytes().size() - 3)));
    CHECK(v["result"] == "failed");
    CHECK(reasons(v).find("runs past the end") != std::string::npos);
    return;
  }
  json v = c.attestor.quote("seat-1", quote_request(c, "seat-1", seat, tampered.bytes()));
  INFO(v.dump(2));
  CHECK(v["result"] == "failed");
  CHECK(reasons(v).find(expect) != std::string::npos);
}

// Found by the VM scenario (tests/vm, scenario 12): root on a Secure-Boot-off seat makes the
// agent's snapshot say SecureBoot=1 and quotes that snapshot honestly. The quote and the log are
// genuine, so before this check the lie went unnoticed (the verdict was only "drift").
TEST_CASE(
    "collector fails a seat whose snapshot says Secure Boot on while its quoted boot says off",
    "[tpm][collector]") {
  Swtpm tpm;
  ToolSeat seat(tpm);
  Collector c;
  enroll(c, seat, "seat-1");
  auto off = EventLogBuilder::typical(/*secure_boot_on=*/false);
  off.extend_into(tpm);
  auto with_secure_boot = [](const char* var) {
    json s = snapshot();
    s["efivars"] = {{"SecureBoot", var}, {"SetupMode", "0600000000"}};
    return s;
  };

  json liar = c.attestor.quote(
      "seat-1", quote_request(c, "seat-1", seat, off.bytes(), with_secure_boot("0600000001")));
  INFO(liar.dump(2));
  CHECK(liar["result"] == "failed");
  CHECK(reasons(liar).find("the seat reports Secure Boot on (efivars SecureBoot), its proven "
                           "event log says off") != std::string::npos);
  CHECK(liar["measured"]["secure_boot"] == "off");  // what the auditor can rely on

  // The same boot reported honestly is judged on its merits (no baseline yet: drift).
  json honest = c.attestor.quote(
      "seat-1", quote_request(c, "seat-1", seat, off.bytes(), with_secure_boot("0600000000")));
  INFO(honest.dump(2));
  CHECK(honest["result"] == "drift");
  CHECK(honest["reasons"].empty());
}

TEST_CASE("collector reports Secure Boot turned off as drift from the baseline",
          "[tpm][collector]") {
  Swtpm tpm;
  ToolSeat seat(tpm);
  Collector c;
  enroll(c, seat, "seat-1");
  auto on = EventLogBuilder::typical(true);
  on.extend_into(tpm);
  c.attestor.quote("seat-1", quote_request(c, "seat-1", seat, on.bytes()));
  c.attestor.baseline_from_last("seat-1", "IMG-42");

  // Reboot (PCRs reset) with Secure Boot off and the boot order changed.
  tpm.stop();
  tpm.start();
  // tpm2-tools' transient AK context does not survive the TPM reset (seatlockd keeps its AK
  // blob); a new AK is enrolled, the baseline stays.
  ToolSeat after(tpm);
  enroll(c, after, "seat-1");
  auto off = EventLogBuilder::typical(false, std::string("\x02\0\x01\0", 4));
  off.extend_into(tpm);
  json v = c.attestor.quote("seat-1", quote_request(c, "seat-1", after, off.bytes()));
  INFO(v.dump(2));
  CHECK(v["result"] == "drift");
  auto d = v["differences"].dump();
  CHECK(d.find("secure_boot: baseline on, measured off") != std::string::npos);
  CHECK(d.find("boot_order: baseline 0001,0002, measured 0002,0001") != std::string::npos);
  CHECK(d.find("firmware measurement") == std::string::npos);  // the firmware itself unchanged
}

TEST_CASE("collector keeps a seat on the TPM it enrolled with until an admin unpins it",
          "[tpm][collector]") {
  Swtpm tpm_a, tpm_b;
  ToolSeat a(tpm_a), b(tpm_b);
  Collector c;
  enroll(c, a, "seat-1");
  // Root on the seat enrolling another (e.g. software) TPM under the seat's identity: refused.
  CHECK_THROWS_AS(c.attestor.enroll("seat-1", b.enroll_request()), at::AttestForbidden);
  CHECK(c.store.pinned_ak("seat-1")->ak_public == base64_encode(a.ak_public()));
  // A new AK in the same TPM is fine (e.g. the seat's state dir was wiped).
  ToolSeat a2(tpm_a);
  enroll(c, a2, "seat-1");
  CHECK(c.store.pinned_ak("seat-1")->ak_public == base64_encode(a2.ak_public()));

  // The TPM was replaced: IT unpins with a ticket; then the new TPM enrolls.
  CHECK(c.attestor.unpin("seat-1", "CHG-77"));
  enroll(c, b, "seat-1");
  CHECK(c.store.pinned_ak("seat-1")->ak_public == base64_encode(b.ak_public()));
  auto rows = c.store.verdicts("seat-1");
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].result == "unpinned");
  CHECK(rows[0].json.find("CHG-77") != std::string::npos);
}
