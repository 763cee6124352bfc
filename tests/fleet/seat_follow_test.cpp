// Seats follow the fleet, real processes on loopback: `seatlock-collector serve --bundles` and
// seatlockd set up as IT deploys it (seat id in a policy file, not the host name; the fleet key
// pinned in a local file). A publish is applied within seconds and acknowledged; bundles that
// must not apply are refused with policy.rejected; the bundle survives a restart while the
// collector is down; an expired bundle is reported and leaves the seat at its shipped default.
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <set>

#include "seat_fleet.hpp"

using namespace seatlock;
using namespace seatlock::fleet_test;
using nlohmann::json;
namespace t = seatlock::test;
namespace tg = seatlock::testing;
using Clock = std::chrono::steady_clock;

namespace {

constexpr const char* kSeat = "cc-0201";

// One collector host with a fleet tree, one seat following it.
struct Rig : SeatFleetRig {
  Rig() : SeatFleetRig(kSeat) {
    fleet.put("groups.json", R"({"seats": ["cc-0201", "cc-0202"], "groups": []})");
    // The shipped default locks USB (enforce); the fleet relaxes it to audit: easy to observe.
    fleet.put("all/10-base.json", R"({"usb": {"mode": "audit"}})");
    start_collector();
    seat.write_report(seat_report(collector->url(), pki, cert, {fleet.pub()}));
    seat.start();
  }
};

// kill -9 and start again; ready once the control socket answers.
void restart(evidence::SeatDaemon& seat) {
  seat.kill9();
  seat.start();
  REQUIRE(t::wait_until(
      [&] {
        try {
          seat_status(seat);
          return true;
        } catch (const std::exception&) {
          return false;
        }
      },
      10'000));
}

bool refused_in(const std::vector<json>& events, const std::string& refusal) {
  for (const auto& e : events)
    if (e.value("kind", "") == "policy.rejected" && e["details"].contains("fleet") &&
        e["details"]["fleet"].value("refusal", "") == refusal)
      return true;
  return false;
}

}  // namespace

TEST_CASE(
    "a published bundle is in force on the seat within seconds and acknowledged with its "
    "version at the collector",
    "[fleet][e2e]") {
  Rig rig;
  REQUIRE(usb_mode(rig.seat) == "enforce");  // the shipped default
  auto t0 = Clock::now();
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 1; }, 20'000));
  CHECK(Clock::now() - t0 < std::chrono::seconds(10));
  CHECK(usb_mode(rig.seat) == "audit");
  json sources = seat_status(rig.seat)["policy"]["sources"];
  CHECK(std::find(sources.begin(), sources.end(), "fleet/all/10-base.json") != sources.end());
  REQUIRE(t::wait_until([&] { return !rig.at_collector("policy.applied", 1).empty(); }, 30'000));

  // A change of the tree reaches the seat the same way; a local edit keeps the fleet's files.
  rig.fleet.put("seats/cc-0201/20-seat.json", R"({"usb": {"mode": "enforce"}})");
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 2; }, 20'000));
  CHECK(usb_mode(rig.seat) == "enforce");
  rig.seat.write_report(
      seat_report(rig.collector->url(), rig.pki, rig.cert, {rig.fleet.pub(), rig.fleet.pub()}));
  REQUIRE(t::wait_until(
      [&] { return seat_status(rig.seat)["policy"]["sources"].size() == sources.size() + 1; },
      10'000));
  CHECK(fleet_version_in_force(rig.seat) == 2);
  REQUIRE(t::wait_until([&] { return !rig.at_collector("policy.applied", 2).empty(); }, 30'000));
}

TEST_CASE(
    "bundles signed by another key, tampered, for another seat, replayed or older are "
    "refused with policy.rejected and the policy in force stays",
    "[fleet][e2e]") {
  Rig rig;
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 1; }, 20'000));
  const std::string v1 = rig.fleet.document(kSeat);

  SECTION("the real collector serving what a wrong key or an edit produced") {
    // Signed by a key the seat does not pin (a second fleet, a stolen publish right without
    // the key...).
    std::string other_key = rig.tmp / "other.key";
    REQUIRE(tg::run_cli({"fleet", "keygen", "--out", other_key}).exit_code == 0);
    rig.fleet.put("all/10-base.json", R"({"usb": {"mode": "enforce"}})");
    rig.fleet.publish("14d", other_key);
    REQUIRE(t::wait_until([&] { return rig.refused_at_collector("untrusted_key"); }, 30'000));
    CHECK(fleet_version_in_force(rig.seat) == 1);
    CHECK(usb_mode(rig.seat) == "audit");

    // Signed with the right key, then one file altered on the collector host.
    std::string staging = rig.tmp / "staging";
    std::filesystem::create_directories(staging);
    // The same next version the served store hands out (as if edited right after a publish).
    t::write_file(staging + "/version", t::read_file(rig.fleet.bundles + "/version"));
    rig.fleet.publish("14d", "", staging);
    json doc = json::parse(rig.fleet.document(kSeat, staging));
    doc["bundle"]["files"][0]["text"] =
        R"({"usb": {"mode": "audit"}, "network": {"mode": "audit"}})";
    rig.fleet.install({doc.dump()});
    REQUIRE(t::wait_until([&] { return rig.refused_at_collector("bad_signature"); }, 30'000));
    CHECK(fleet_version_in_force(rig.seat) == 1);
    CHECK(seat_status(rig.seat)["policy"]["modes"]["network"] != "audit");

    // A good publish after all that still applies.
    rig.fleet.publish();
    REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) > 1; }, 30'000));
    CHECK(usb_mode(rig.seat) == "enforce");
  }

  SECTION("a bundle that does not validate with the seat's own files is refused as a whole") {
    // The tree is fine on its own (check and publish pass); on this seat the fleet's grant of a
    // stick meets a local grant of the same stick with another ticket: a conflict.
    const std::string grant =
        R"({"vid": "0781", "pid": "5581", "serial": "4C53", "until": "2030-01-01T00:00:00Z", )";
    t::write_file(rig.seat.policy_dir + "/60-local-grant.json",
                  R"({"usb": {"exceptions": [)" + grant + R"("ticket": "CHG-1"}]}})");
    rig.fleet.put("seats/cc-0201/30-grant.json", R"({"usb": {"mode": "enforce", "exceptions": [)" +
                                                     grant + R"("ticket": "CHG-2"}]}})");
    rig.fleet.publish();
    REQUIRE(t::wait_until([&] { return rig.refused_at_collector("invalid_policy"); }, 30'000));
    json rejected = rig.at_collector("policy.rejected", 2).at(0)["details"];
    CHECK(rejected["errors"].dump().find("fleet/seats/cc-0201/30-grant.json") != std::string::npos);
    CHECK(fleet_version_in_force(rig.seat) == 1);
    CHECK(usb_mode(rig.seat) == "audit");  // nothing of version 2 applied, not even the mode
  }

  SECTION("a collector handing out another seat's bundle, an older one, the same one again") {
    rig.fleet.put("all/10-base.json", R"({"usb": {"mode": "enforce"}})");
    rig.fleet.publish();
    REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 2; }, 20'000));
    const std::string v2 = rig.fleet.document(kSeat), other_seat = rig.fleet.document("cc-0202");

    ReplayingCollector evil(rig.pki, rig.tmp / "replaying");
    rig.seat.write_report(seat_report(evil.url(), rig.pki, rig.cert, {rig.fleet.pub()}));
    evil.serve_next(other_seat);
    REQUIRE(t::wait_until([&] { return refused_in(evil.events(), "wrong_seat"); }, 30'000));
    evil.serve_next(v1);
    REQUIRE(t::wait_until([&] { return refused_in(evil.events(), "rollback"); }, 30'000));
    evil.serve_next(v2);
    REQUIRE(t::wait_until([&] { return refused_in(evil.events(), "replay"); }, 30'000));
    CHECK(fleet_version_in_force(rig.seat) == 2);
    CHECK(usb_mode(rig.seat) == "enforce");

    // After a restart too: the highest version applied is persisted on the seat.
    restart(rig.seat);
    CHECK(fleet_version_in_force(rig.seat) == 2);
    // The killed daemon's last poll may still be held by the replaying collector (up to 1 s):
    // serve once the new daemon has had a whole poll answered.
    REQUIRE(t::wait_until(
        [&] { return seat_status(rig.seat)["components"]["fleet"]["polls"] >= 2; }, 10'000));
    evil.serve_next(v1);
    REQUIRE(t::wait_until(
        [&] {
          std::set<std::string> ids;  // a killed seat may send an event twice
          for (const auto& e : evil.events())
            if (refused_in({e}, "rollback")) ids.insert(e["id"].get<std::string>());
          return ids.size() == 2;
        },
        30'000));
    CHECK(fleet_version_in_force(rig.seat) == 2);
    CHECK(usb_mode(rig.seat) == "enforce");
  }
}

TEST_CASE(
    "a seat restarted while the collector is down keeps its bundle and catches up when "
    "the collector returns",
    "[fleet][e2e]") {
  Rig rig;
  rig.fleet.publish();
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 1; }, 20'000));
  const int port = rig.collector->port();

  rig.collector->stop();
  rig.seat.kill9();  // then restarted while the collector is down
  rig.fleet.put("seats/cc-0201/20-seat.json", R"({"usb": {"mode": "enforce"}})");
  rig.fleet.publish();  // v2 waits in the store while the collector is down
  restart(rig.seat);
  CHECK(fleet_version_in_force(rig.seat) == 1);  // the last good bundle, offline
  CHECK(usb_mode(rig.seat) == "audit");
  // The poll starts once the daemon runs: "idle" until it has its config, "polling" while the
  // first request to the stopped collector fails; then it must settle in "backoff".
  CHECK(t::wait_until(
      [&] { return seat_status(rig.seat)["components"]["fleet"]["state"] == "backoff"; }, 10'000));

  rig.start_collector(port);
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 2; }, 60'000));
  CHECK(usb_mode(rig.seat) == "enforce");
  REQUIRE(t::wait_until([&] { return !rig.at_collector("policy.applied", 2).empty(); }, 60'000));
}

TEST_CASE("an expired bundle is reported and the seat goes back to its shipped default",
          "[fleet][e2e]") {
  Rig rig;
  rig.fleet.publish("6s");
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 1; }, 20'000));
  CHECK(usb_mode(rig.seat) == "audit");
  REQUIRE(t::wait_until([&] { return fleet_version_in_force(rig.seat) == 0; }, 20'000));
  CHECK(usb_mode(rig.seat) == "enforce");
  REQUIRE(
      t::wait_until([&] { return !rig.at_collector("policy.fleet_expired", 1).empty(); }, 30'000));

  // Restarted, the seat does not take the expired bundle back, and says so again.
  restart(rig.seat);
  CHECK(usb_mode(rig.seat) == "enforce");
  REQUIRE(t::wait_until([&] { return rig.at_collector("policy.fleet_expired", 1).size() == 2; },
                        30'000));
}
