// Seat-side verification of a fleet bundle: every refusal, and the merge order
// shipped default < fleet < local.
#include "core/fleet/verify.hpp"

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "core/util/digest.hpp"
#include "signing.hpp"

using namespace seatlock;
using namespace seatlock::fleet;
using nlohmann::json;

namespace {

constexpr UnixMillis kNow = 1'800'000'000'000;

struct Signer {
  collector::Ed25519Key key = collector::ed25519_generate();
  std::string pub() const { return base64_encode(key.raw_public); }
  std::string sign(const FleetBundle& b) const {
    return bundle_document(
        b, collector::ed25519_sign(key.raw_private, bundle_signed_bytes(bundle_json(b))),
        key.raw_public);
  }
};

FleetBundle bundle(std::uint64_t version, const std::string& seat = "cc-0201") {
  return {seat,
          version,
          kNow - 1000,
          kNow + 3'600'000,
          {{"all/10-base.json", R"({"network": {"mode": "enforce", "dns": ["10.0.0.53"]}})"}}};
}

SeatTrust trust(const Signer& s, std::uint64_t highest = 4) {
  return {{s.pub()}, "cc-0201", highest, kNow};
}

}  // namespace

TEST_CASE("a bundle signed by a pinned key, for this seat, newer and unexpired is accepted",
          "[fleet][verify]") {
  Signer s;
  BundleVerdict v = verify_bundle(s.sign(bundle(5)), trust(s));
  REQUIRE(v.ok());
  CHECK(v.bundle->version == 5);
  CHECK(v.bundle->files.size() == 1);
  // A second pinned key (rotation): either one is accepted.
  Signer next;
  SeatTrust both = trust(s);
  both.fleet_keys.push_back(next.pub());
  CHECK(verify_bundle(next.sign(bundle(5)), both).ok());
}

TEST_CASE("each way a bundle can be wrong is refused with its own reason", "[fleet][verify]") {
  Signer s;
  SECTION("no key pinned") {
    SeatTrust t = trust(s);
    t.fleet_keys.clear();
    CHECK(verify_bundle(s.sign(bundle(5)), t).refusal == Refusal::untrusted_key);
  }
  SECTION("signed by a key the seat does not pin") {
    Signer other;
    BundleVerdict v = verify_bundle(other.sign(bundle(5)), trust(s));
    CHECK(v.refusal == Refusal::untrusted_key);
    CHECK(v.reason.find(other.pub()) != std::string::npos);
  }
  SECTION("a pinned key's signature over other bytes (tampered files)") {
    json doc = json::parse(s.sign(bundle(5)));
    doc["bundle"]["files"][0]["text"] = R"({"network": {"mode": "audit"}})";
    CHECK(verify_bundle(doc.dump(), trust(s)).refusal == Refusal::bad_signature);
  }
  SECTION("a pinned key's signature over a raised version (tampered version)") {
    json doc = json::parse(s.sign(bundle(5)));
    doc["bundle"]["version"] = 50;
    CHECK(verify_bundle(doc.dump(), trust(s)).refusal == Refusal::bad_signature);
  }
  SECTION("re-formatting the document does not matter: canonical bytes are signed") {
    json doc = json::parse(s.sign(bundle(5)));
    CHECK(verify_bundle(doc.dump(4), trust(s)).ok());
  }
  SECTION("made for another seat") {
    BundleVerdict v = verify_bundle(s.sign(bundle(5, "cc-0202")), trust(s));
    CHECK(v.refusal == Refusal::wrong_seat);
    CHECK(v.reason == "bundle for seat cc-0202, this seat is cc-0201");
  }
  SECTION("the version already applied (replay)") {
    BundleVerdict v = verify_bundle(s.sign(bundle(4)), trust(s, 4));
    CHECK(v.refusal == Refusal::replay);
    CHECK(v.reason == "version 4 was already applied (highest seen 4)");
  }
  SECTION("an older version (rollback)") {
    CHECK(verify_bundle(s.sign(bundle(3)), trust(s, 4)).refusal == Refusal::rollback);
  }
  SECTION("expired") {
    FleetBundle b = bundle(5);
    b.expires = kNow - 1;
    BundleVerdict v = verify_bundle(s.sign(b), trust(s));
    CHECK(v.refusal == Refusal::expired);
    CHECK(v.reason.find("version 5 expired at ") == 0);
  }
  SECTION("not a bundle document") {
    CHECK(verify_bundle("{", trust(s)).refusal == Refusal::malformed);
    CHECK(verify_bundle(R"({"bundle": {}})", trust(s)).refusal == Refusal::malformed);
  }
}

TEST_CASE("a bundle's files are validated with the seat's local files before anything applies",
          "[fleet][verify]") {
  Signer s;
  PolicyLoadOptions o;
  o.now = kNow;
  o.expired_is_error = false;
  const std::vector<PolicyFile> local = {
      {"policy.d/00-default.json", R"({"network": {"mode": "audit"}, "usb": {"mode": "audit"}})"},
      {"policy.d/90-seat.json", R"({"usb": {"mode": "audit"}, "report": {"seat_id": "cc-0201"}})"}};

  SECTION("merge order: shipped default < fleet < local") {
    auto order = seat_merge_order(local, bundle(5).files);
    REQUIRE(order.size() == 3);
    CHECK(order[0].name == "policy.d/00-default.json");
    CHECK(order[1].name == "fleet/all/10-base.json");
    CHECK(order[2].name == "policy.d/90-seat.json");
    BundleVerdict v = accept_bundle(s.sign(bundle(5)), trust(s), local, o);
    REQUIRE(v.ok());
    CHECK(v.policy->network.mode == Mode::Enforce);  // fleet over the shipped default
    CHECK(v.policy->usb.mode == Mode::Audit);        // a local file over the fleet
    CHECK(v.policy->network.dns == std::vector<std::string>{"10.0.0.53"});
  }
  SECTION("a file that fails validation rejects the whole bundle, with file:line:column") {
    FleetBundle b = bundle(5);
    b.files.push_back({"seats/cc-0201/90.json", "{\n \"usb\": {\"mode\": 1}}"});
    BundleVerdict v = accept_bundle(s.sign(b), trust(s), local, o);
    CHECK(v.refusal == Refusal::invalid_policy);
    CHECK_FALSE(v.policy);
    REQUIRE(v.errors.size() == 1);
    CHECK(v.errors[0].text() ==
          "fleet/seats/cc-0201/90.json:2:18: /usb/mode: expected a string, got 1");
  }
  SECTION("a conflict between a fleet file and a local file rejects the bundle") {
    std::vector<PolicyFile> with_grant = local;
    with_grant.push_back({"policy.d/70-grant.json", R"({"usb": {"exceptions": [
      {"vid": "0781", "pid": "5581", "until": "2027-03-01T00:00:00Z", "ticket": "IT-1"}]}})"});
    FleetBundle b = bundle(5);
    b.files.push_back({"all/70.json", R"({"usb": {"exceptions": [
      {"vid": "0781", "pid": "5581", "until": "2027-05-01T00:00:00Z", "ticket": "IT-1"}]}})"});
    CHECK(accept_bundle(s.sign(b), trust(s), with_grant, o).refusal == Refusal::invalid_policy);
  }
  SECTION("a fleet file that sets a local-only key (here the pinned keys) is refused") {
    FleetBundle b = bundle(5);
    b.files.push_back({"all/99.json", R"({"report": {"fleet_keys": [")" + s.pub() + R"("]}})"});
    BundleVerdict v = accept_bundle(s.sign(b), trust(s), local, o);
    CHECK(v.refusal == Refusal::invalid_policy);
    REQUIRE_FALSE(v.errors.empty());
    CHECK(v.errors[0].pointer == "/report/fleet_keys");
    CHECK(v.errors[0].file == "fleet/all/99.json");
  }
  SECTION("the signature is checked before the files are even parsed") {
    json doc = json::parse(s.sign(bundle(5)));
    doc["bundle"]["files"][0]["text"] = "{not json";
    CHECK(accept_bundle(doc.dump(), trust(s), local, o).refusal == Refusal::bad_signature);
  }
}

TEST_CASE("report.fleet_keys is validated and accumulates across local files", "[fleet][policy]") {
  Signer a, b;
  PolicyLoadOptions o;
  o.now = kNow;
  auto r = load_policy({{"50-a.json", R"({"report": {"fleet_keys": [")" + a.pub() + R"("]}})"},
                        {"60-b.json", R"({"report": {"fleet_keys": [")" + b.pub() + R"("]}})"}},
                       o);
  REQUIRE(r.policy);
  CHECK(r.policy->report.fleet_keys == std::vector<std::string>{a.pub(), b.pub()});
  auto bad = load_policy({{"50-a.json", "{\"report\": {\"fleet_keys\": [\"abc\"]}}"}}, o);
  REQUIRE(bad.errors.size() == 1);
  CHECK(bad.errors[0].text() ==
        "50-a.json:1:28: /report/fleet_keys/0: expected an Ed25519 public key (base64 of 32 "
        "bytes), got \"abc\"");
}
