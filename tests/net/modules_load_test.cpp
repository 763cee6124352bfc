// packaging/modules-load/seatlock.conf loads, early in the boot, every kernel module the tables
// seatlockd and seatlock-netlock compile use, so neither transaction waits for the kernel to
// load one on demand (a modprobe per module mid-transaction, which nft then replays: 2-5 s of
// seatlock-netlock's start under TCG when nft_objref was missing, docs/boot.md).
#include <catch2/catch.hpp>
#include <fstream>
#include <set>
#include <sstream>
#include <string>

#include "core/net/net_rules.hpp"
#include "core/net/ruleset.hpp"

using namespace seatlock;
using namespace seatlock::net;

namespace {

std::set<std::string> shipped_modules() {
  std::ifstream in(std::string(SEATLOCK_SOURCE_DIR) + "/packaging/modules-load/seatlock.conf");
  REQUIRE(in);
  std::set<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string word;
    if (words >> word && word[0] != '#' && word[0] != ';') out.insert(word);
  }
  return out;
}

EgressRule to(const std::string& cidr, std::uint16_t port) {
  auto r = parse_destination(cidr);
  REQUIRE(r);
  r->ports = {{port, port}};
  r->proto = "tcp";
  return *r;
}

// Every construct of a ruleset without domain entries: allowlist, inbound, a user's exception,
// planned addresses, DHCP, the collector's management path.
NetRules every_construct(Mode mode) {
  NetRules r;
  r.mode = mode;
  r.allow = {to("10.0.0.0/8", 443)};
  r.inbound = {{to("10.1.0.0/16", 22).to, {{22, 22}}, "tcp", ""}};
  r.exceptions = {{"T-1", {"alice"}, {}, {1001}, {to("192.0.2.0/24", 443)}, 1'900'000'000'000, ""}};
  r.addresses = {{"eth0", {4, "10.1.2.117", 24}}};
  r.dns = {"10.0.0.53"};
  r.collector = {{"10.0.0.9", 8443}};
  return r;
}

}  // namespace

TEST_CASE("the modules loaded at boot cover every nft expression the tables use", "[net][unit]") {
  const std::set<std::string> shipped = shipped_modules();
  // Statement text -> the module the kernel needs for it (nf_tables itself for the rest:
  // payload, meta, cmp, lookup, bitwise, immediate, counter and the verdicts are built in).
  const std::pair<const char*, const char*> needs[] = {{"counter name ", "nft_objref"},
                                                       {"ct ", "nft_ct"},
                                                       {"limit rate ", "nft_limit"},
                                                       {" log ", "nft_log"},
                                                       {" log group ", "nfnetlink_log"}};
  for (const Mode mode : {Mode::Enforce, Mode::Audit}) {
    const NetRules rules = every_construct(mode);
    const std::string text = full_transaction(rules, compile_ruleset(rules, 1'800'000'000'000));
    INFO(text);
    CHECK(shipped.count("nf_tables") == 1);
    for (const auto& [statement, module] : needs) {
      INFO(statement << " needs " << module);
      if (text.find(statement) != std::string::npos) CHECK(shipped.count(module) == 1);
    }
  }
}
