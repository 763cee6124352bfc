// The console's fleet page API (issue 15, "Fleet"): GET /api/fleet and POST /api/fleet/net run
// the same central action as `seatlock-collector net close|open --group` with the collector's
// fleet config (serve --fleet-config), against a real collector and the fleet tree the fleet
// tests use (tests/fleet/central_test.cpp): seats cc-0101, cc-0102 and group floor-2 (cc-0201,
// cc-0202).
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "console_rig.hpp"
#include "core/fleet/verify.hpp"
#include "core/util/time.hpp"
#include "fleet/bundle_dir.hpp"
#include "support/process.hpp"

using namespace seatlock;
using namespace seatlock::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kPw = "a long enough passphrase";

// The fleet tree, key and config file of a packaged collector, made before `serve` starts.
struct FleetFiles {
  TempDir dir;
  std::string tree = dir / "tree", key = dir / "fleet.key", bundles = dir / "bundles",
              config = dir / "fleet.json";
  FleetFiles() {
    seatlock::test::write_file(tree + "/groups.json",
                               R"({"seats": ["cc-0101", "cc-0102", "cc-0201", "cc-0202"],
  "groups": [{"name": "floor-2", "match": ["cc-02*"]}]})");
    seatlock::test::write_file(tree + "/all/10-base.json",
                               R"({"network": {"mode": "enforce", "dns": ["10.0.0.53"],
  "allow": [{"to": "10.20.0.0/16", "ports": [443], "essential": true},
            {"to": "10.30.0.0/16", "ports": [443]}]}})");
    REQUIRE(run_cli({"fleet", "keygen", "--out", key}).exit_code == 0);
  }
  // The config names the collector's store, as on a packaged collector.
  void write_config(const std::string& db) const {
    seatlock::test::write_file(
        config,
        json{{"tree", tree}, {"key", key}, {"bundles", bundles}, {"store", "sqlite:" + db}}.dump());
  }
  std::uint64_t current() const {
    return collector::fleet_cli::BundleDir(bundles).current_version();
  }
  // Does `seat`'s published bundle (verified with the fleet public key) close its internet?
  bool closed_in_bundle(const std::string& seat) const {
    auto all = collector::fleet_cli::BundleDir(bundles).read_all();
    REQUIRE(all.count(seat));
    std::string pub = seatlock::test::read_file(key + ".pub");
    fleet::SeatTrust trust{{pub.substr(0, pub.find('\n'))}, seat, 0, now_ms()};
    auto verdict = fleet::verify_bundle(all[seat].document, trust);
    REQUIRE(verdict.ok());
    for (const auto& f : verdict.bundle->files) {
      auto doc = json::parse(f.text);
      if (doc.contains("network") && doc["network"].contains("closed")) return true;
    }
    return false;
  }
};

json group_named(const json& fleet, const std::string& name) {
  for (const auto& g : fleet["groups"])
    if (g["name"] == name) return g;
  FAIL("no group " << name << " in " << fleet.dump());
  return {};
}

}  // namespace

TEST_CASE("fleet: an admin closes and opens a group's internet in the console, auditors may not",
          "[console][fleet]") {
  FleetFiles fleet;
  ConsoleRig rig({"--fleet-config", fleet.config, "--bundles", fleet.bundles});
  fleet.write_config(rig.db);
  rig.add_user("boss", "admin", kPw);
  rig.add_user("alice", "auditor", kPw);
  ConsoleBrowser admin(rig), auditor(rig);
  REQUIRE(admin.login("boss", kPw).status == 200);
  REQUIRE(auditor.login("alice", kPw).status == 200);

  Reply before = auditor.get("/api/fleet");  // auditors may look
  INFO(before.body);
  REQUIRE(before.status == 200);
  CHECK(group_named(before.json(), "floor-2")["internet"] == "open");
  CHECK(group_named(before.json(), "floor-2")["seats"] == 2);
  CHECK(before.json()["publish"]["version"] == 0);  // nothing published yet

  const std::string close = R"({"group":"floor-2","action":"close","ticket":"CHG-7"})";
  // An auditor is refused, with a valid session and CSRF token: nothing changes.
  Reply refused = auditor.post("/api/fleet/net", close);
  CHECK(refused.status == 403);
  CHECK(fleet.current() == 0);
  // A missing CSRF token: refused before the role is even looked at.
  CHECK(admin.post("/api/fleet/net", close, /*with_csrf=*/false).status == 403);
  CHECK(fleet.current() == 0);
  // No ticket, no action.
  Reply no_ticket = admin.post("/api/fleet/net", R"({"group":"floor-2","action":"close"})");
  CHECK(no_ticket.status == 400);
  CHECK(no_ticket.json()["error"].get<std::string>().rfind("ticket", 0) == 0);
  Reply no_group =
      admin.post("/api/fleet/net", R"({"group":"floor-9","action":"close","ticket":"CHG-7"})");
  CHECK(no_group.status == 409);
  CHECK(no_group.json()["error"].get<std::string>().find("floor-9") != std::string::npos);
  CHECK(fleet.current() == 0);

  Reply closed = admin.post("/api/fleet/net", close);
  INFO(closed.body);
  REQUIRE(closed.status == 200);
  std::uint64_t version = closed.json()["version"];
  CHECK(version >= 1);
  CHECK(fleet.current() == version);  // published at once
  CHECK(fleet.closed_in_bundle("cc-0201"));
  CHECK(fleet.closed_in_bundle("cc-0202"));
  CHECK_FALSE(fleet.closed_in_bundle("cc-0101"));

  Reply after = auditor.get("/api/fleet");
  REQUIRE(after.status == 200);
  json g = group_named(after.json(), "floor-2");
  CHECK(g["internet"] == "closed");
  CHECK(g["ticket"] == "CHG-7");
  CHECK(after.json()["publish"]["version"] == version);
  CHECK(after.json()["publish"]["behind"] == 4);  // no seat has applied it yet

  // Recorded in the collector's chain as the same central action, with the console account.
  auto ev = rig.events("fleet.net_closed");
  REQUIRE(ev.size() == 1);
  CHECK(ev[0]["details"]["actor"] == "boss");
  CHECK(ev[0]["details"]["ticket"] == "CHG-7");
  CHECK(ev[0]["details"]["seats"] == json::array({"cc-0201", "cc-0202"}));

  Reply opened =
      admin.post("/api/fleet/net", R"({"group":"floor-2","action":"open","ticket":"CHG-8"})");
  REQUIRE(opened.status == 200);
  CHECK(opened.json()["version"].get<std::uint64_t>() > version);
  CHECK_FALSE(fleet.closed_in_bundle("cc-0201"));
  CHECK(group_named(admin.get("/api/fleet").json(), "floor-2")["internet"] == "open");
  CHECK(rig.events("fleet.net_opened").size() == 1);
  CHECK(rig.cli({"verify"}).exit_code == 0);
}

TEST_CASE("fleet: without a fleet config the fleet API says so", "[console][fleet]") {
  ConsoleRig rig;
  rig.add_user("boss", "admin", kPw);
  ConsoleBrowser admin(rig);
  REQUIRE(admin.login("boss", kPw).status == 200);
  Reply r = admin.get("/api/fleet");
  CHECK(r.status == 404);
  CHECK(r.json()["error"] == "no fleet configured");
  CHECK(admin.post("/api/fleet/net", R"({"group":"g","action":"close","ticket":"T"})").status ==
        404);
}
