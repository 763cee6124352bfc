#pragma once
// The crowd of the "internet off" benchmark (internet_off_bench.cpp): simulated seats that behave
// like seatlockd's fleet client towards a real `seatlock-collector serve --bundles`
// (docs/wire.md "Policy long-poll"; agent/daemon/fleet): each holds
// `GET /v1/policy?after=V&wait=S` open on its own TLS connection (bearer token, its own
// 127.1.x.y source), verifies the bundle it gets with core's verify_bundle (pinned fleet key,
// seat id, version, expiry) and acknowledges it as a seat does, with a chained, signed
// `policy.applied` event carrying details.fleet.version, POSTed on the same connection.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace seatlock::bench {

struct CrowdSeat {
  std::string id, token, source;
};

struct CrowdOutcome {
  // Seconds from the command (start()) to the collector's 200 for the acknowledgement; < 0 when
  // the seat did not acknowledge the wanted version.
  double ack_s = -1;
  double bundle_s = -1;
  double sent_s = -1;  // the same to the acknowledgement leaving the seat (bundle verified)  // the
                       // same to the bundle's arrival (the collector's answer to the poll)
  std::string error;   // why not ("" when acknowledged)
};

class SimSeatCrowd {
 public:
  // Every seat polls with after=`after` and acknowledges the first bundle of version `want`.
  SimSeatCrowd(std::vector<CrowdSeat> seats, int port, std::string ca, std::string fleet_pin,
               std::uint64_t after, std::uint64_t want, int wait_s);
  ~SimSeatCrowd();
  // Starts every seat; returns once all of them have sent their poll (or failed to connect).
  void connect_all();
  // The command's moment: ack times count from here.
  void start_clock() { t0_ns_ = std::chrono::steady_clock::now().time_since_epoch().count(); }
  // Waits until every seat acknowledged or failed; returns their outcomes (seat order).
  std::vector<CrowdOutcome> finish();

 private:
  void run_seat(std::size_t i);
  double since_start() const;

  std::vector<CrowdSeat> seats_;
  int port_;
  std::string ca_, pin_;
  std::uint64_t after_, want_;
  int wait_s_;
  std::vector<CrowdOutcome> outcomes_;
  std::vector<std::thread> threads_;
  std::atomic<std::size_t> polling_{0};
  std::atomic<std::chrono::steady_clock::rep> t0_ns_{0};  // set by start_clock()
};

}  // namespace seatlock::bench
