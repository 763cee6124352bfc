// load_policy end to end on in-memory files: messages, positions, defaults, hash.
#include "core/policy/loader.hpp"

#include <catch2/catch.hpp>

#include "core/event/event.hpp"
#include "core/util/digest.hpp"

using namespace seatlock;

namespace {

const UnixMillis kNow = *parse_rfc3339("2026-11-28T12:00:00Z");

PolicyLoadResult load(std::vector<PolicyFile> files, bool expired_is_error = true) {
  PolicyLoadOptions o;
  o.now = kNow;
  o.expired_is_error = expired_is_error;
  return load_policy(files, o);
}

std::vector<std::string> texts(const std::vector<PolicyDiagnostic>& d) {
  std::vector<std::string> out;
  for (const auto& x : d) out.push_back(x.text());
  return out;
}

}  // namespace

TEST_CASE("the message format names file, line, column, pointer and what was expected",
          "[policy][loader]") {
  auto r = load({{"policy.d/50-site.json",
                  "{\n  \"usb\": {\n    \"exceptions\": [\n      {\n        \"vid\": \"0951\", "
                  "\"pid\": \"1666\", \"ticket\": \"IT-1\",\n"
                  "        \"until\": \"tomorrow\"\n      }\n    ]\n  }\n}\n"}});
  CHECK_FALSE(r.policy);
  REQUIRE(texts(r.errors) ==
          std::vector<std::string>{"policy.d/50-site.json:6:18: /usb/exceptions/0/until: expected "
                                   "an RFC 3339 time with offset, got \"tomorrow\""});
  CHECK(r.errors[0].line == 6);
  CHECK(r.errors[0].pointer == "/usb/exceptions/0/until");
}

TEST_CASE("every error is listed, in file order", "[policy][loader]") {
  auto r = load({{"a.json",
                  "{\"usb\": {\"mode\": \"block\", \"allow_clases\": []},\n \"report\": "
                  "{\"collector\": \"http://x\"}}"}});
  CHECK(texts(r.errors) ==
        std::vector<std::string>{
            "a.json:1:18: /usb/mode: expected \"enforce\" or \"audit\", got \"block\"",
            "a.json:1:27: /usb/allow_clases: unknown key (did you mean \"allow_classes\"?)",
            "a.json:2:26: /report/collector: expected an https:// URL such as "
            "\"https://collector.example:8443\", got \"http://x\""});
}

TEST_CASE("syntax errors carry the position of the offending character", "[policy][loader]") {
  auto r = load(
      {{"policy.d/50-site.json", "{\r\n  // comment\r\n  \"usb\": {\"mode\": \"audit\",}\r\n}"}});
  REQUIRE(r.errors.size() == 1);
  CHECK(r.errors[0].line == 3);
  CHECK(r.errors[0].column == 27);
  CHECK(r.errors[0].text().rfind("policy.d/50-site.json:3:27: syntax error", 0) == 0);
}

TEST_CASE("built-in defaults fill what no file sets", "[policy][loader]") {
  auto r = load({{"00.json", "{}"}});
  REQUIRE(r.policy);
  const Policy& p = *r.policy;
  CHECK(p.usb.mode == Mode::Enforce);
  CHECK(p.usb.allow_classes == std::vector<std::string>{"hub", "hid", "audio"});
  CHECK(p.firmware.mode == Mode::Audit);
  CHECK(p.firmware.interval_ms == 6 * 3600000LL);
  CHECK(p.report.spool_max_bytes == 256ULL << 20);
  CHECK(p.effective["report"]["spool_max"] == "256MiB");
  CHECK(p.effective["network"]["denied_log"]["window"] == "1m");
  CHECK_FALSE(p.effective["report"].contains("collector"));
  CHECK(p.sources == std::vector<std::string>{"00.json"});
}

TEST_CASE("sha256 is over the canonical bytes of the effective document", "[policy][loader]") {
  auto a = load({{"x.json", "{\"usb\": {\"mode\": \"audit\"}}"}});
  auto b = load({{"y.json",
                  "// same policy, other formatting\n{ \"usb\" : { \"mode\" : \"audit\" } , "
                  "\"comment\": \"hi\" }"}});
  REQUIRE(a.policy);
  REQUIRE(b.policy);
  CHECK(a.policy->sha256 == sha256_hex(canonical_bytes(a.policy->effective)));
  CHECK(a.policy->sha256 == b.policy->sha256);
  auto c = load({{"x.json", "{\"usb\": {\"mode\": \"enforce\"}}"}});
  CHECK(c.policy->sha256 != a.policy->sha256);
}

TEST_CASE("the effective document loads back to the same policy", "[policy][loader]") {
  auto r = load(
      {{"50.json",
        R"({"network": {"allow": [{"to": "10.0.0.0/8", "ports": [443, "5060-5061"], "proto": "tcp"}],
                    "addresses": {"eth0": "10.1.2.117/24"}, "dns": ["10.0.0.53"]},
                    "usb": {"exceptions": [{"vid": "0951", "pid": "1666", "until": "2027-01-01T00:00:00Z", "ticket": "IT-1"}]},
                    "report": {"collector": "https://c.example:8443", "token_file": "/etc/seatlock/token"}})"}});
  REQUIRE(r.policy);
  auto again = load({{"last-good-policy.json", r.policy->effective.dump(2)}});
  REQUIRE(again.errors.empty());
  CHECK(again.policy->sha256 == r.policy->sha256);
}

TEST_CASE("values are converted for the components", "[policy][loader]") {
  auto r = load(
      {{"50.json",
        R"({"network": {"allow": [{"to": ["10.0.0.0/8", "FD00::/8"], "ports": [443, "5060-5061"], "proto": "udp"}],
                    "addresses": {"eth0": "10.1.2.117/24"}, "dns": ["fd00:0::53"], "denied_log": {"window": "5m", "rate": 10}},
                    "usb": {"exceptions": [{"vid": "09AB", "pid": "16cD", "serial": "S1", "port": "1-2.3",
                            "until": "2027-01-01T08:00:00+08:00", "ticket": "IT-1", "read_only": true}]}})"}});
  REQUIRE(r.policy);
  const auto& net = r.policy->network;
  REQUIRE(net.allow.size() == 1);
  CHECK(net.allow[0].to == std::vector<Cidr>{{4, "10.0.0.0", 8}, {6, "fd00::", 8}});
  CHECK(net.allow[0].ports == std::vector<PortRange>{{443, 443}, {5060, 5061}});
  CHECK(net.allow[0].proto == "udp");
  CHECK(net.dns == std::vector<std::string>{"fd00::53"});
  REQUIRE(net.addresses.size() == 1);
  CHECK(net.addresses[0].interface == "eth0");
  CHECK(net.addresses[0].address.text() == "10.1.2.117/24");
  CHECK(net.denied_window_ms == 300000);
  CHECK(net.denied_log_rate == 10);
  const auto& x = r.policy->usb.exceptions.at(0);
  CHECK(x.vid == "09ab");
  CHECK(x.pid == "16cd");
  CHECK(x.serial == "S1");
  CHECK(x.port == "1-2.3");
  CHECK(x.until == *parse_rfc3339("2027-01-01T00:00:00Z"));
  CHECK(x.read_only);
  CHECK(x.source == "50.json");
}

TEST_CASE("an expired exception is an error for check and a dropped warning for the daemon",
          "[policy][loader]") {
  std::vector<PolicyFile> files = {{"90.json", R"({"usb": {"exceptions": [
          {"vid": "0951", "pid": "1666", "until": "2026-11-01T00:00:00Z", "ticket": "IT-1"},
          {"vid": "0951", "pid": "1667", "until": "2026-12-01T00:00:00Z", "ticket": "IT-2"}]}})"}};
  auto strict = load(files, true);
  CHECK_FALSE(strict.policy);
  CHECK(texts(strict.errors) ==
        std::vector<std::string>{"90.json:2:51: /usb/exceptions/0/until: exception expired at "
                                 "2026-11-01T00:00:00Z (ticket IT-1); "
                                 "remove it or extend \"until\""});
  auto lenient = load(files, false);
  REQUIRE(lenient.policy);
  CHECK(texts(lenient.warnings) ==
        std::vector<std::string>{"90.json:2:51: /usb/exceptions/0/until: exception expired at "
                                 "2026-11-01T00:00:00Z (ticket IT-1); "
                                 "left out of the policy"});
  REQUIRE(lenient.policy->usb.exceptions.size() == 1);
  CHECK(lenient.policy->usb.exceptions[0].ticket == "IT-2");
  CHECK(lenient.policy->effective["usb"]["exceptions"].size() == 1);
}

TEST_CASE("no files at all is an error, not an empty policy", "[policy][loader]") {
  auto r = load({});
  CHECK_FALSE(r.policy);
  CHECK(texts(r.errors) == std::vector<std::string>{"no policy files to load"});
}
