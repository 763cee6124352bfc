// Merge rules across files (policy/README.md "Merge rules") and errors placed in the right file.
#include <catch2/catch.hpp>

#include "core/policy/loader.hpp"

using namespace seatlock;

namespace {

PolicyLoadResult load(std::vector<PolicyFile> files) {
  PolicyLoadOptions o;
  o.now = *parse_rfc3339("2026-11-28T12:00:00Z");
  return load_policy(files, o);
}

std::vector<std::string> texts(const std::vector<PolicyDiagnostic>& d) {
  std::vector<std::string> out;
  for (const auto& x : d) out.push_back(x.text());
  return out;
}

const char* kUsbEx =
    R"({"vid": "0951", "pid": "1666", "serial": "A", "until": "2027-01-01T00:00:00Z", "ticket": "IT-1"})";

}  // namespace

TEST_CASE("scalars: the later file wins key by key", "[policy][merge]") {
  auto r = load(
      {{"d/00.json",
        R"({"usb": {"mode": "enforce"}, "network": {"mode": "enforce", "denied_log": {"window": "1m", "rate": 5}}})"},
       {"d/50.json", R"({"usb": {"mode": "audit"}, "network": {"denied_log": {"rate": 9}}})"}});
  REQUIRE(r.policy);
  CHECK(r.policy->usb.mode == Mode::Audit);
  CHECK(r.policy->network.mode == Mode::Enforce);
  CHECK(r.policy->network.denied_window_ms == 60000);
  CHECK(r.policy->network.denied_log_rate == 9);
  CHECK(r.policy->sources == std::vector<std::string>{"d/00.json", "d/50.json"});
}

TEST_CASE("allow_classes and require are replaced as a whole", "[policy][merge]") {
  auto r = load(
      {{"00.json",
        R"({"usb": {"allow_classes": ["hub", "hid", "audio"]}, "firmware": {"require": ["secure_boot"]}})"},
       {"50.json", R"({"usb": {"allow_classes": ["hub", "hid"]}, "firmware": {"require": []}})"}});
  REQUIRE(r.policy);
  CHECK(r.policy->usb.allow_classes == std::vector<std::string>{"hub", "hid"});
  CHECK(r.policy->firmware.require.empty());
}

TEST_CASE("exception and allow lists accumulate, remembering their source", "[policy][merge]") {
  std::string seat = std::string(R"({"usb": {"exceptions": [)") + kUsbEx + R"(]},
      "network": {"allow": [{"to": "192.0.2.0/24"}]}})";
  auto r = load(
      {{"d/00.json", R"({"network": {"allow": [{"to": "10.0.0.0/8"}]}})"},
       {"d/50.json", R"({"network": {"allow": [{"to": "10.0.0.0/8"}, {"to": "172.16.0.0/12"}]}})"},
       {"d/90.json", seat}});
  REQUIRE(r.policy);
  const auto& allow = r.policy->network.allow;
  REQUIRE(allow.size() == 3);  // the identical 10.0.0.0/8 entry counts once
  CHECK(allow[0].to[0].text() == "10.0.0.0/8");
  CHECK(allow[1].to[0].text() == "172.16.0.0/12");
  CHECK(allow[2].to[0].text() == "192.0.2.0/24");
  REQUIRE(r.policy->usb.exceptions.size() == 1);
  CHECK(r.policy->usb.exceptions[0].source == "d/90.json");
}

TEST_CASE("dns, ntp and trusted keys are sets compared by meaning", "[policy][merge]") {
  auto r = load(
      {{"00.json", R"({"network": {"dns": ["10.0.0.53", "fd00::53"], "ntp": ["10.0.0.123"]}})"},
       {"50.json",
        R"({"network": {"dns": ["fd00:0:0::53", "10.0.1.53"], "ntp": ["10.0.0.123"]}})"}});
  REQUIRE(r.policy);
  CHECK(r.policy->network.dns == std::vector<std::string>{"10.0.0.53", "fd00::53", "10.0.1.53"});
  CHECK(r.policy->network.ntp == std::vector<std::string>{"10.0.0.123"});
}

TEST_CASE("addresses merge per interface, one interface planned twice differently is an error",
          "[policy][merge]") {
  auto ok =
      load({{"50.json", R"({"network": {"addresses": {"eth0": "10.1.2.117/24"}}})"},
            {"90.json",
             R"({"network": {"addresses": {"eth0": "10.1.2.117/24", "eth1": "fd00::5/64"}}})"}});
  REQUIRE(ok.policy);
  CHECK(ok.policy->network.addresses.size() == 2);
  auto bad =
      load({{"p/50.json", R"({"network": {"addresses": {"eth0": "10.1.2.117/24"}}})"},
            {"p/90.json", "{\n  \"network\": {\"addresses\": {\"eth0\": \"10.1.2.118/24\"}}}"}});
  CHECK_FALSE(bad.policy);
  CHECK(texts(bad.errors) ==
        std::vector<std::string>{
            "p/90.json:2:37: /network/addresses/eth0: conflicts with p/50.json:1:36 "
            "(/network/addresses/eth0): interface "
            "\"eth0\" is planned with two different addresses (10.1.2.117/24 and 10.1.2.118/24)"});
}

TEST_CASE("the same device excepted twice with different terms is a conflict in the later file",
          "[policy][merge]") {
  std::string later =
      R"({"vid": "0951", "pid": "1666", "serial": "A", "until": "2027-02-01T00:00:00Z", "ticket": "IT-1"})";
  auto r = load({{"p/50.json", std::string(R"({"usb": {"exceptions": [)") + kUsbEx + "]}}"},
                 {"p/90.json", std::string("{\"usb\":\n {\"exceptions\": [") + later + "]}}"}});
  CHECK_FALSE(r.policy);
  CHECK(texts(r.errors) ==
        std::vector<std::string>{
            "p/90.json:2:18: /usb/exceptions/0: conflicts with p/50.json:1:25 (/usb/exceptions/0): "
            "device 0951:1666 "
            "serial \"A\" has two exceptions with a different until, ticket or read_only"});
  // The same grant written twice (only the comment differs) is not a conflict.
  std::string same =
      R"({"vid": "0951", "pid": "1666", "serial": "A", "until": "2027-01-01T00:00:00Z", "ticket": "IT-1", "comment": "x"})";
  auto dup = load({{"50.json", std::string(R"({"usb": {"exceptions": [)") + kUsbEx + "]}}"},
                   {"90.json", std::string(R"({"usb": {"exceptions": [)") + same + "]}}"}});
  CHECK(dup.errors.empty());
}

TEST_CASE("errors are reported in the file where the bad value was written", "[policy][merge]") {
  auto r =
      load({{"policy.d/00-default.json", "{\"network\": {\"allow\": [{\"to\": \"10.0.0.0/8\"}]}}"},
            {"policy.d/50-site.json",
             "{\n\"network\": {\n  \"allow\": [\n    {\"to\": \"10.1.0.0/8\"}]}}"},
            {"policy.d/90-seat.json", "{\"report\": {\"cert\": \"/etc/seatlock/seat.pem\"}}"}});
  CHECK(texts(r.errors) ==
        std::vector<std::string>{"policy.d/50-site.json:4:12: /network/allow/0/to: expected a "
                                 "network address with no host bits set, got "
                                 "\"10.1.0.0/8\" (did you mean 10.0.0.0/8?)"});
}

TEST_CASE("a client certificate without its key is an error wherever the other half is missing",
          "[policy][merge]") {
  auto r = load({{"50.json", "{\"report\": {\"cert\": \"/etc/seatlock/seat.pem\"}}"}});
  CHECK(texts(r.errors) ==
        std::vector<std::string>{"50.json:1:21: /report/cert: a client cert needs its key (set "
                                 "\"report\": {\"key\": ...} in this or another file)"});
  auto ok = load({{"50.json", "{\"report\": {\"cert\": \"/etc/seatlock/seat.pem\"}}"},
                  {"90.json", "{\"report\": {\"key\": \"/etc/seatlock/seat.key\"}}"}});
  CHECK(ok.errors.empty());
}
