#pragma once
// A simulated seat for collector tests and benchmarks: builds correctly chained events with
// core's Event helpers and signs batch chain heads with its own Ed25519 key (wire contract).
#include <cstdint>
#include <string>
#include <vector>

#include "core/event/event.hpp"
#include "signing.hpp"

namespace seatlock::testing {

struct Post {
  std::string body;                  // NDJSON, canonical bytes per line
  std::vector<std::string> headers;  // "Name: value"
  std::uint64_t last_seq = 0;
};

class SeatSim {
 public:
  explicit SeatSim(std::string seat_id);
  // Next event in the chain (seq and prev assigned here, as the seat's sink would).
  Event next(const std::string& kind, const std::string& severity, UnixMillis time,
             const std::string& user = "agent.test");
  std::vector<Event> make(std::size_t n, const std::string& kind = "usb.blocked",
                          const std::string& severity = "high", UnixMillis start = 0,
                          std::int64_t step_ms = 1000);
  // NDJSON body + signed chain-head headers for `events` (the last one is the head).
  Post post(const std::vector<Event>& events) const;
  // Post with a body that is not simply the events' canonical bytes (e.g. a corrupted line); the
  // chain head still names `head`.
  Post post_raw(const std::string& body, const Event& head) const;

  const std::string& seat_id() const { return seat_id_; }
  std::string public_key_b64() const;
  void use_key(const collector::Ed25519Key& k) { key_ = k; }

 private:
  std::string seat_id_;
  collector::Ed25519Key key_;
  std::uint64_t seq_ = 0;
  std::string last_hash_;
};

UnixMillis now_ms();

}  // namespace seatlock::testing
