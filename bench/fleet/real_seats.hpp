#pragma once
// The real seats of the "internet off" benchmark (internet_off_bench.cpp): seatlockd
// (network + delivery, seat id from its policy file, fleet key pinned) each in a network
// namespace of its own, wired to the bench's namespace by a veth pair on a bridge
// (bench 10.77.0.1/24, seat i 10.77.0.(10+i)/24). The bench runs in its own namespace too, so
// nothing here touches the host's.
#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "harness.hpp"

namespace seatlock::bench {

inline constexpr const char* kBenchAddr = "10.77.0.1";

struct RealSeat {
  std::string id, netns, dir;
  pid_t pid = -1;
};

class RealSeats {
 public:
  // Creates the bridge in the calling (bench) namespace and `count` seat namespaces.
  RealSeats(const seatlock::testing::TempDir& dir, std::size_t count);
  ~RealSeats();  // stops the daemons, deletes the namespaces and links
  std::vector<std::string> ids() const;
  // Writes each seat's policy (the shipped-default stand-in and 90-seat.json naming the seat,
  // the collector, its certificate, the pinned key) and starts its seatlockd.
  void start(seatlock::testing::Pki& pki, const std::string& collector_url,
             const std::string& fleet_pin);
  // `nft list ruleset` inside seat i's namespace.
  std::string ruleset(std::size_t i) const;
  const std::vector<RealSeat>& seats() const { return seats_; }
  std::string log(std::size_t i) const;

 private:
  std::string dir_;
  std::string tag_;  // unique per bench process: netns and link names
  std::vector<RealSeat> seats_;
};

// Runs a shell command; returns its stdout+stderr; throws with it when the exit code is not 0.
std::string must_sh(const std::string& command);

}  // namespace seatlock::bench
