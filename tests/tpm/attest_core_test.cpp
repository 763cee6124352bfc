// The pure half of seat attestation: the snapshot digest, the qualifying data and the wire.
#include <catch2/catch.hpp>

#include "core/attest/qualifying_data.hpp"
#include "core/attest/snapshot_digest.hpp"
#include "core/attest/wire.hpp"
#include "core/util/digest.hpp"

using namespace seatlock;
using nlohmann::json;

TEST_CASE("qualifying data is SHA-256(nonce bytes || snapshot digest bytes)", "[tpm][attest]") {
  // Reference computed independently: sha256(bytes.fromhex("00"*31+"01") + bytes.fromhex("ab"*32))
  std::string digest;
  for (int i = 0; i < 32; ++i) digest += "ab";
  auto q = attest::qualifying_data(std::string(62, '0') + "01", digest);
  REQUIRE(q.has_value());
  CHECK(hex_encode(*q) == "34ab3c3a5e19a4fe99c0d558e43a6b8dfb7f55588b1b9fc9da0e7e76c2c24584");

  CHECK_FALSE(attest::qualifying_data("abc", digest).has_value());                 // short nonce
  CHECK_FALSE(attest::qualifying_data(std::string(64, 'g'), digest).has_value());  // not hex
  CHECK_FALSE(attest::qualifying_data(std::string(64, '0'), "00").has_value());    // short digest
}

TEST_CASE("the snapshot digest covers DMI, settings and the Secure Boot variable",
          "[tpm][attest]") {
  firmware::Snapshot s;
  s.dmi["bios_version"] = "1.2.3";
  firmware::RawInterface itf;
  itf.driver = "dell-wmi-sysman";
  itf.settings["UsbBoot"] = {"Disabled\n", "Enabled;Disabled", "enumeration"};
  s.interfaces.push_back(itf);
  s.secure_boot_var = std::string("\x06\x00\x00\x00\x01", 5);
  const json j = attest::snapshot_json(s);
  CHECK(j["settings"]["dell-wmi-sysman/UsbBoot"] == "Disabled");
  CHECK(j["efivars"]["SecureBoot"] == "0600000001");
  CHECK(j["efivars"]["SetupMode"].is_null());
  const std::string d = attest::snapshot_digest_hex(j);
  CHECK(
      d ==
      sha256_hex(
          R"({"dmi":{"bios_version":"1.2.3"},"efivars":{"SecureBoot":"0600000001","SetupMode":null},"format":"seatlock.firmware-snapshot/1","read_errors":[],"settings":{"dell-wmi-sysman/UsbBoot":"Disabled"}})"));

  // Any change a lying agent would make changes the digest bound into the quote.
  auto off = s;
  off.secure_boot_var = std::string("\x06\x00\x00\x00\x00", 5);
  CHECK(attest::snapshot_digest_hex(attest::snapshot_json(off)) != d);
  auto usb = s;
  usb.interfaces[0].settings["UsbBoot"].current_value = "Enabled";
  CHECK(attest::snapshot_digest_hex(attest::snapshot_json(usb)) != d);
  // The digest is over canonical bytes: the same snapshot re-parsed gives the same digest.
  CHECK(attest::snapshot_digest_hex(json::parse(j.dump(2))) == d);
}

TEST_CASE("enrollment request and answer follow the wire contract", "[tpm][attest]") {
  attest::EnrollmentMaterial m{"ekpub", std::nullopt, "akpub", "akname"};
  json req = attest::enroll_request(m);
  CHECK(req["ek_public"] == base64_encode("ekpub"));
  CHECK(req["ek_cert"].is_null());
  CHECK(req["ak_public"] == base64_encode("akpub"));
  CHECK(req["ak_name"] == base64_encode("akname"));
  m.ek_cert = std::string("\x30\x82", 2);
  CHECK(attest::enroll_request(m)["ek_cert"] == base64_encode(std::string("\x30\x82", 2)));

  std::string error;
  json answer = {{"enrollment", "e1"},
                 {"credential_blob", base64_encode("blob")},
                 {"encrypted_secret", base64_encode("secret")},
                 {"ek_cert_status", "absent"}};
  auto a = attest::parse_enroll_answer(answer, error);
  REQUIRE(a.has_value());
  CHECK(a->credential_blob == "blob");
  CHECK(a->encrypted_secret == "secret");
  answer["credential_blob"] = "***";
  CHECK_FALSE(attest::parse_enroll_answer(answer, error).has_value());
  CHECK(error == "/credential_blob: expected base64");

  CHECK(attest::activate_request("e1", "s") ==
        json{{"enrollment", "e1"}, {"secret", base64_encode("s")}});
  CHECK(attest::parse_challenge({{"nonce", std::string(64, 'f')}}, error) == std::string(64, 'f'));
  CHECK_FALSE(attest::parse_challenge({{"nonce", "f00"}}, error).has_value());
  CHECK(error == "/nonce: expected 64 hex digits");
}
