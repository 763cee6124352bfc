// The seat's side of "who runs what", real processes on loopback (`seatlock-collector serve
// --bundles`, seatlockd set up as IT deploys it): a bundle refused as unauthenticated does not
// move the poll cursor (a forged document claiming a high version cannot make the seat skip real
// publishes), `seatlockctl status` shows the fleet state in its human form, and a local file
// that overrides the fleet is reported in policy.applied and flagged by `fleet status`.
#include <catch2/catch.hpp>
#include <filesystem>

#include "seat_fleet.hpp"

using namespace seatlock;
using namespace seatlock::fleet_test;
using nlohmann::json;
namespace t = seatlock::test;
namespace tg = seatlock::testing;

namespace {

constexpr const char* kSeat = "cc-0301";

struct Rig : SeatFleetRig {
  Rig() : SeatFleetRig(kSeat) {
    fleet.put("groups.json", R"({"seats": ["cc-0301"], "groups": []})");
    fleet.put("all/10-base.json", R"({"usb": {"mode": "audit"}})");
    start_collector();
    // Only what a managed seat sets locally: how it reaches its collector and the pinned key
    // (no local heartbeat or batch size, which would be local settings the fleet did not make).
    std::string url = collector->url();
    seat.write_report({{"collector", url.substr(0, url.find("/v1/"))},
                       {"ca", pki.ca},
                       {"cert", cert.cert},
                       {"key", cert.key},
                       {"fleet_keys", {fleet.pub()}}});
    seat.start();
  }
  std::string human_status() { return seat.seatlockctl({"status"}).out; }
  json fleet_status() {
    auto r = tg::run_cli({"fleet", "status", "--db", db, "--bundles", fleet.bundles, "--json"});
    REQUIRE(r.exit_code == 0);
    const json all = json::parse(r.out);
    for (const auto& s : all["seats"])
      if (s["seat"] == kSeat) return s;
    FAIL("fleet status does not list " << kSeat << ": " << r.out);
    return {};
  }
};

}  // namespace

TEST_CASE(
    "a bundle refused as unauthenticated does not move the poll cursor: a later publish "
    "below the version it claimed still reaches the seat",
    "[fleet][e2e][status]") {
  Rig rig;
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 1; }, 20'000));

  // Someone on the path (or with write access to the bundle directory) serves the seat its own
  // bundle with the version raised to 50: the signature no longer matches.
  json forged = json::parse(rig.fleet.document(kSeat));
  forged["bundle"]["version"] = 50;
  rig.fleet.install({forged.dump()});
  REQUIRE(t::wait_until([&] { return rig.refused_at_collector("bad_signature") == 1; }, 30'000));
  CHECK(rig.human_status().find("refused:   bundle 50 (bad_signature) at ") != std::string::npos);
  // The seat keeps asking above the version it applied (1), so the same document comes back;
  // it is refused again, not reported again.
  CHECK(t::wait_until([&] { return seat_status(rig.seat)["components"]["fleet"]["bundles"] >= 3; },
                      15'000));
  CHECK(seat_status(rig.seat)["components"]["fleet"]["after"] == 1);

  // The next real publish (version 3, far below 50) applies.
  rig.fleet.put("all/10-base.json", R"({"usb": {"mode": "enforce"}})");
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 3; }, 30'000));
  CHECK(usb_mode(rig.seat) == "enforce");
  REQUIRE(t::wait_until([&] { return !rig.at_collector("policy.applied", 3).empty(); }, 30'000));
  CHECK(rig.refused_at_collector("bad_signature") == 1);  // events arrive in seq order
}

TEST_CASE(
    "seatlockctl status shows the fleet bundle, and a local file overriding the fleet is "
    "reported by the seat and flagged by fleet status",
    "[fleet][e2e][status]") {
  Rig rig;
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 1; }, 20'000));
  std::string human = rig.human_status();
  INFO(human);
  CHECK(human.find("fleet:     bundle 1, applied 20") != std::string::npos);
  CHECK(human.find(", expires 20") != std::string::npos);
  CHECK(human.find("LOCAL:") == std::string::npos);
  CHECK(seat_status(rig.seat)["policy"]["fleet"]["local_overrides"] == json::array());

  // Acknowledged and clean at the collector.
  REQUIRE(t::wait_until([&] { return !rig.at_collector("policy.applied", 1).empty(); }, 30'000));
  CHECK(rig.at_collector("policy.applied", 1).back()["details"]["fleet"]["local_overrides"] ==
        json::array());
  json row = rig.fleet_status();
  CHECK(row["acknowledged"]["version"] == 1);
  CHECK(row["flags"] == json::array());

  // A local root turns USB back to enforce although the fleet says audit.
  t::write_file(rig.seat.policy_dir + "/60-local.json", R"({"usb": {"mode": "enforce"}})");
  REQUIRE(t::wait_until(
      [&] {
        return seat_status(rig.seat)["policy"]["fleet"]["local_overrides"] ==
               json::array({"/usb/mode"});
      },
      20'000));
  CHECK(usb_mode(rig.seat) == "enforce");
  human = rig.human_status();
  CHECK(human.find("LOCAL:     local files override the fleet at /usb/mode\n") !=
        std::string::npos);
  REQUIRE(t::wait_until([&] { return rig.fleet_status()["flags"] == json::array({"local-edits"}); },
                        30'000));
  CHECK(rig.fleet_status()["local_overrides"] == json::array({"/usb/mode"}));
  CHECK(rig.fleet_status()["acknowledged"]["version"] == 1);
}
