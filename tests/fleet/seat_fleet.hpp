#pragma once
// A fleet tree, its key and bundle store on the "collector host", a real
// `seatlock-collector serve --bundles` and real seatlockd seats following it
// (tests/evidence/e2e_helpers.hpp: seat id only in policy.d/90-seat.json, a host name that
// differs, --components delivery, which brings the fleet poll with it).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "../evidence/e2e_helpers.hpp"

namespace seatlock::fleet_test {

struct FleetHost {
  explicit FleetHost(const seatlock::testing::TempDir& dir);
  std::string tree, key, bundles;
  std::string pub() const;  // the line to pin (report.fleet_keys)
  void put(const std::string& relative, const std::string& text) const;
  // seatlock-collector fleet publish; throws with its output when it fails.
  void publish(const std::string& expires = "14d", const std::string& key_file = "",
               const std::string& into = "") const;
  // The signed document `seat` gets from the store `dir` (default: the served one).
  std::string document(const std::string& seat, const std::string& dir = "") const;
  // Commits `documents` (one per seat) as the next publish of the served store, the way
  // `fleet publish` does (a test stands in for a hostile or broken publisher).
  void install(const std::vector<std::string>& documents) const;
};

// The seat's local report section: collector, its certificate, and the pinned fleet key(s).
nlohmann::json seat_report(const std::string& collector_url, const seatlock::testing::Pki& pki,
                           const seatlock::testing::Pki::Pair& cert,
                           const std::vector<std::string>& pins);

// tests/fleet/replaying_collector.py: serves the documents the test drops in, logs events.
struct ReplayingCollector {
  ReplayingCollector(const seatlock::testing::Pki& pki, const std::string& dir);
  void serve_next(const std::string& document);
  std::vector<nlohmann::json> events() const;
  std::string url() const { return server.url(); }
  std::string dir;
  seatlock::evidence::ScriptServer server;

 private:
  int served_ = 0;
};

// One collector host (fleet tree, `serve --bundles`) and one seat following it. The owner writes
// the tree, starts the collector (start_collector) and the seat (its local report first).
struct SeatFleetRig {
  explicit SeatFleetRig(const std::string& seat_id);
  seatlock::testing::TempDir tmp;
  seatlock::testing::Pki pki{tmp};
  std::string seat_id;
  seatlock::testing::Pki::Pair cert;
  FleetHost fleet{tmp};
  std::string db = tmp / "collector.db";
  std::unique_ptr<seatlock::testing::CollectorProcess> collector;
  seatlock::evidence::SeatDaemon seat;

  void start_collector(int port = 0);  // 0: any free port
  // The seat's events of `kind` at the collector with details.fleet.version `version` (any: 0).
  std::vector<nlohmann::json> at_collector(const std::string& kind, std::uint64_t version);
  // policy.rejected events at the collector for a fleet bundle with this refusal.
  std::size_t refused_at_collector(const std::string& refusal);
};

// The seat's `status` (control socket): {"policy": {...,"modes","fleet"}, "components": ...}.
nlohmann::json seat_status(seatlock::evidence::SeatDaemon& seat);
std::uint64_t fleet_version_in_force(seatlock::evidence::SeatDaemon& seat);
std::string usb_mode(seatlock::evidence::SeatDaemon& seat);

// Events of `kind` in `rows` whose details.fleet.version is `version` (any when 0).
std::vector<nlohmann::json> with_fleet_version(const std::vector<nlohmann::json>& rows,
                                               const std::string& kind, std::uint64_t version);

}  // namespace seatlock::fleet_test
