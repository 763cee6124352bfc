// Signed baselines: signature and trust, technician attestations, and drift (BIOS update or
// reflash, board swap, CMOS reset) judged into the overall result.
#include <catch2/catch.hpp>

#include "core/firmware/attestation.hpp"
#include "core/util/digest.hpp"
#include "firmware/fake_sysfs.hpp"
#include "os/firmware/signing_key.hpp"
#include "os/firmware/sysfs_reader.hpp"

using namespace seatlock::firmware;
using nlohmann::json;
using seatlock::test::FakeSysfs;

namespace {

constexpr seatlock::UnixMillis kImaging = 1764338591000;  // 2025-11-28T14:03:11Z

std::string signed_doc(const FakeSysfs& f, const SigningKey& key, const Attestations& att = {}) {
  json b = make_baseline(read_snapshot(f.str()), att, kImaging, "imaged by T. Tech");
  return baseline_document(b, key.sign(baseline_signed_bytes(b)), key.public_raw());
}

seatlock::FirmwarePolicy policy_trusting(const SigningKey& key) {
  seatlock::FirmwarePolicy p;
  p.require = {"admin_password", "usb_boot_disabled", "boot_order_locked", "usb_storage_disabled",
               "secure_boot"};
  p.trusted_keys = {seatlock::base64_encode(key.public_raw())};
  return p;
}

Attestation attest_with(const FakeSysfs& f, const seatlock::FirmwarePolicy& p,
                        const std::string& doc) {
  return attest(read_snapshot(f.str()), p, verify_baseline(doc, p.trusted_keys));
}

const CheckResult& find(const Attestation& a, const std::string& name) {
  for (const auto& c : a.checks)
    if (c.name == name) return c;
  throw std::runtime_error("no check " + name);
}

// The Dell as imaged: everything it exposes locked; boot order attested by the technician.
void dell_seat(FakeSysfs& f) {
  seatlock::test::make_dell_locked(f);
}

}  // namespace

TEST_CASE("a baseline signed by a trusted key verifies and round-trips its content",
          "[firmware][baseline]") {
  FakeSysfs f;
  dell_seat(f);
  SigningKey key = SigningKey::generate();
  auto r = verify_baseline(signed_doc(f, key, {{"boot_order_locked", true}}),
                           {seatlock::base64_encode(key.public_raw())});
  REQUIRE(r.status == "ok");
  CHECK(r.baseline["format"] == kBaselineFormat);
  CHECK(r.baseline["created"] == "2025-11-28T14:03:11.000Z");
  CHECK(r.baseline["dmi"]["bios_version"] == "3.2.0");
  CHECK(r.baseline["dmi"]["board_serial"] == "/7XK9F93/CNCMK0011J0068/");
  CHECK(r.baseline["settings"]["dell-wmi-sysman/UsbEmu"] == "Disabled");
  CHECK(r.baseline["settings"].count("dell-wmi-sysman/pending_reboot") == 0);
  CHECK(r.baseline["attested"] == json{{"boot_order_locked", "yes"}});
}

TEST_CASE("the imaged Dell with an attested boot-order lock is compliant", "[firmware][baseline]") {
  FakeSysfs f;
  dell_seat(f);
  SigningKey key = SigningKey::generate();
  auto p = policy_trusting(key);
  auto a = attest_with(f, p,
                       signed_doc(f, key, {{"boot_order_locked", true}, {"admin_password", true}}));
  CHECK(a.overall == "compliant");
  CHECK(a.severity == "info");
  CHECK(a.violations.empty());
  const auto& order = find(a, "boot_order_locked");
  CHECK(order.result == Verdict::Pass);
  CHECK(order.source == "attested");
  // What the firmware shows is never overridden by an attestation.
  CHECK(find(a, "admin_password").source == "firmware");
  json j = to_json(a);
  CHECK(j["overall"] == "compliant");
  CHECK(j["baseline"]["status"] == "ok");
  CHECK(j["checks"].size() == 5);
  CHECK(j["checks"][2] == json({{"name", "boot_order_locked"},
                                {"result", "pass"},
                                {"source", "attested"},
                                {"required", true},
                                {"evidence", order.evidence}}));
}

TEST_CASE("a CMOS reset shows as failed checks and settings drift, and voids attestations",
          "[firmware][baseline]") {
  FakeSysfs imaged;
  dell_seat(imaged);
  SigningKey key = SigningKey::generate();
  auto p = policy_trusting(key);
  std::string doc = signed_doc(imaged, key, {{"boot_order_locked", true}});

  FakeSysfs reset;
  seatlock::test::make_dell_cmos_reset(reset);
  auto a = attest_with(reset, p, doc);
  CHECK(a.overall == "violation");
  CHECK(a.severity == "high");
  CHECK(find(a, "admin_password").result == Verdict::Fail);
  CHECK(find(a, "usb_boot_disabled").result == Verdict::Fail);
  const auto& order = find(a, "boot_order_locked");
  CHECK(order.result == Verdict::Unknown);
  CHECK(order.evidence ==
        "not exposed by dell-wmi-sysman; attestation 'yes' void: firmware changed since the "
        "baseline");
  REQUIRE(a.drift.size() == 2);
  CHECK(a.drift[0].field == "settings/dell-wmi-sysman/UsbEmu");
  CHECK(a.drift[0].baseline == "Disabled");
  CHECK(a.drift[0].current == "Enabled");
  CHECK(a.drift[1].field == "settings/dell-wmi-sysman/UsbPortsExternal");
  CHECK(std::find(a.violations.begin(), a.violations.end(),
                  "required check admin_password failed: authentication/dell-wmi-sysman/Admin "
                  "is_enabled = 0") != a.violations.end());
}

TEST_CASE("a BIOS version change is a violation", "[firmware][baseline]") {
  FakeSysfs f;
  dell_seat(f);
  SigningKey key = SigningKey::generate();
  auto p = policy_trusting(key);
  std::string doc = signed_doc(f, key, {{"boot_order_locked", true}});
  REQUIRE(attest_with(f, p, doc).overall == "compliant");

  f.dmi("bios_version", "3.4.1").dmi("bios_date", "02/14/2022");
  auto a = attest_with(f, p, doc);
  CHECK(a.overall == "violation");
  CHECK(a.severity == "high");
  REQUIRE(a.drift.size() == 2);
  CHECK(a.violations.at(0) == "dmi/bios_version changed since the baseline: 3.2.0 -> 3.4.1");
  CHECK(a.violations.at(1) == "dmi/bios_date changed since the baseline: 05/06/2021 -> 02/14/2022");
  CHECK(find(a, "boot_order_locked").result ==
        Verdict::Unknown);  // attestation void after a reflash
}

TEST_CASE("a board swap (new board serial and UUID) is a violation", "[firmware][baseline]") {
  FakeSysfs f;
  dell_seat(f);
  SigningKey key = SigningKey::generate();
  auto p = policy_trusting(key);
  std::string doc = signed_doc(f, key, {{"boot_order_locked", true}});
  f.dmi("board_serial", "/1ABCDE2/CNCMK0099X0001/")
      .dmi("product_uuid", "4c4c4544-0000-1111-2222-333344445555");
  auto a = attest_with(f, p, doc);
  CHECK(a.overall == "violation");
  std::vector<std::string> fields;
  for (const auto& d : a.drift) fields.push_back(d.field);
  CHECK(fields == std::vector<std::string>{"dmi/board_serial", "dmi/product_uuid"});
}

TEST_CASE("a baseline signed by a key the policy does not list is untrusted",
          "[firmware][baseline]") {
  FakeSysfs f;
  dell_seat(f);
  SigningKey it_key = SigningKey::generate(), other = SigningKey::generate();
  auto p = policy_trusting(it_key);
  auto a = attest_with(f, p, signed_doc(f, other, {{"boot_order_locked", true}}));
  CHECK(a.baseline.status == "untrusted");
  CHECK(a.baseline.detail == "signed by key " + seatlock::base64_encode(other.public_raw()) +
                                 ", which is not in firmware.trusted_keys");
  CHECK(a.overall == "violation");
  CHECK(a.severity == "high");
  CHECK(find(a, "boot_order_locked").result == Verdict::Unknown);  // its attestations are not used
}

TEST_CASE("a tampered baseline is invalid", "[firmware][baseline]") {
  FakeSysfs f;
  dell_seat(f);
  SigningKey key = SigningKey::generate();
  auto p = policy_trusting(key);
  json doc = json::parse(signed_doc(f, key, {{"boot_order_locked", false}}));
  // Someone flips the technician's answer and updates the BIOS version to hide a reflash.
  doc["baseline"]["attested"]["boot_order_locked"] = "yes";
  auto a = attest_with(f, p, doc.dump());
  CHECK(a.baseline.status == "invalid");
  CHECK(a.baseline.detail == "signature does not match the baseline (altered after signing)");
  CHECK(a.overall == "violation");
  CHECK(find(a, "boot_order_locked").result == Verdict::Unknown);

  json swapped_key = json::parse(signed_doc(f, key));
  swapped_key["key"] = p.trusted_keys[0];
  swapped_key["baseline"]["dmi"]["bios_version"] = "9.9.9";
  CHECK(verify_baseline(swapped_key.dump(), p.trusted_keys).status == "invalid");
}

TEST_CASE("malformed baseline documents are invalid with a reason", "[firmware][baseline]") {
  std::vector<std::string> keys = {std::string(44, 'A')};
  CHECK(verify_baseline("not json", keys).detail == "not a JSON object");
  CHECK(verify_baseline(R"({"baseline":{}})", keys).detail ==
        "expected \"baseline\", \"signature\" and \"key\"");
  CHECK(verify_baseline(R"({"baseline":{},"signature":"AAAA","key":"AAAA"})", keys).detail ==
        "/key: expected base64 of a 32-byte Ed25519 public key");
  CHECK(verify_baseline(
            R"({"baseline":{},"signature":"AAAA","key":")" + std::string(43, 'A') + "=\"}", keys)
            .detail == "/signature: expected base64 of a 64-byte Ed25519 signature");
}

TEST_CASE("no baseline configured or the file gone is a violation", "[firmware][baseline]") {
  FakeSysfs f;
  dell_seat(f);
  BaselineCheck none;
  none.status = "missing";
  none.detail = "no baseline configured (policy firmware.baseline)";
  auto a = attest(read_snapshot(f.str()), seatlock::FirmwarePolicy{}, none);
  CHECK(a.overall == "violation");
  CHECK(a.violations == std::vector<std::string>{
                            "baseline missing: no baseline configured (policy firmware.baseline)"});
}

TEST_CASE("a machine with no firmware-attributes relies on its baseline", "[firmware][baseline]") {
  FakeSysfs f;
  f.efi(true, false)
      .dmi_machine("ACME", "Office Box 3", "1.07", "03/01/2024", "BRD-0042",
                   "0b1c2d3e-0000-4000-8000-000000000042");
  SigningKey key = SigningKey::generate();
  auto p = policy_trusting(key);
  std::string doc = signed_doc(f, key,
                               {{"admin_password", true},
                                {"usb_boot_disabled", true},
                                {"boot_order_locked", true},
                                {"usb_storage_disabled", true}});
  auto a = attest_with(f, p, doc);
  CHECK(a.overall == "compliant");
  for (const auto& c : a.checks) {
    INFO(c.name);
    CHECK(c.result == Verdict::Pass);
    CHECK(c.source == (c.name == "secure_boot" ? "efivars" : "attested"));
  }
  // Without attestations the required checks stay unknown: incomplete, not compliant.
  auto bare = attest_with(f, p, signed_doc(f, key));
  CHECK(bare.overall == "incomplete");
  CHECK(bare.severity == "medium");
  CHECK(bare.incomplete.size() == 4);
  // A technician's "no" is a failure.
  auto said_no = attest_with(f, p, signed_doc(f, key, {{"usb_boot_disabled", false}}));
  CHECK(find(said_no, "usb_boot_disabled").result == Verdict::Fail);
  CHECK(said_no.overall == "violation");
}

TEST_CASE("the thinklmi 6.3 value format change is not drift, a changed value is",
          "[firmware][baseline]") {
  FakeSysfs f;
  f.capture("lenovo-p620", "thinklmi")
      .efi(true, false)
      .dmi_machine("LENOVO", "30E0CTO1WW", "S07KT41A", "06/11/2021", "L1HF0AB01C", "uuid-p620");
  SigningKey key = SigningKey::generate();
  auto p = policy_trusting(key);
  p.require = {"secure_boot"};
  std::string doc = signed_doc(f, key);
  f.setting("thinklmi", "WindowsUEFIFirmwareUpdate", "Enable")
      .setting("thinklmi", "AMDMemoryGuard", "Disable");
  auto same = attest_with(f, p, doc);
  CHECK(same.drift.empty());
  CHECK(same.overall == "compliant");

  f.setting("thinklmi", "AMDMemoryGuard", "Enable");
  auto changed = attest_with(f, p, doc);
  REQUIRE(changed.drift.size() == 1);
  CHECK(changed.drift[0].field == "settings/thinklmi/AMDMemoryGuard");
  CHECK(changed.drift[0].baseline == "Disable;[Optional:Disable,Enable]");
  CHECK(changed.drift[0].current == "Enable");
  CHECK(changed.overall == "violation");
}

TEST_CASE("attestation arguments are checked", "[firmware][baseline]") {
  CHECK(parse_attestation("admin_password=yes") ==
        std::pair<std::string, bool>{"admin_password", true});
  CHECK(parse_attestation("secure_boot=no") == std::pair<std::string, bool>{"secure_boot", false});
  CHECK_THROWS_WITH(parse_attestation("admin_password"),
                    Catch::Contains("expected CHECK=yes or CHECK=no"));
  CHECK_THROWS_WITH(parse_attestation("bios_pw=yes"), Catch::Contains("unknown check 'bios_pw'"));
  CHECK_THROWS_WITH(parse_attestation("admin_password=maybe"),
                    Catch::Contains("answer must be yes or no"));
}
