#include "seat_sim.hpp"

#include <openssl/rand.h>

#include <chrono>

#include "core/util/digest.hpp"

namespace seatlock::testing {

UnixMillis now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

SeatSim::SeatSim(std::string seat_id)
    : seat_id_(std::move(seat_id)), key_(collector::ed25519_generate()), last_hash_(kGenesisPrev) {}

Event SeatSim::next(const std::string& kind, const std::string& severity, UnixMillis time,
                    const std::string& user) {
  unsigned char rnd[10];
  RAND_bytes(rnd, sizeof rnd);
  Event e;
  e.id = make_uuid_v7(time, rnd);
  e.seq = ++seq_;
  e.time = time;
  e.seat_id = seat_id_;
  e.hostname = seat_id_ + ".test";
  if (!user.empty()) e.user = UserRef{user, 1001};
  e.kind = kind;
  e.severity = severity;
  e.outcome = severity == "info" ? "reported" : "blocked";
  e.mode = "enforce";
  e.policy_sha256 = std::string(64, 'a');
  e.rule = kind.substr(0, kind.find('.')) + ".test";
  e.details = {{"vid", "0951"}, {"pid", "1666"}, {"port", "1-2"}, {"n", e.seq}};
  e.prev = last_hash_;
  last_hash_ = chain_hash(e);
  return e;
}

std::vector<Event> SeatSim::make(std::size_t n, const std::string& kind,
                                 const std::string& severity, UnixMillis start,
                                 std::int64_t step_ms) {
  if (start == 0) start = now_ms();
  std::vector<Event> out;
  for (std::size_t i = 0; i < n; ++i)
    out.push_back(next(kind, severity, start + static_cast<std::int64_t>(i) * step_ms));
  return out;
}

Post SeatSim::post(const std::vector<Event>& events) const {
  std::string body;
  for (const Event& e : events) body += canonical_bytes(e) + "\n";
  return post_raw(body, events.back());
}

Post SeatSim::post_raw(const std::string& body, const Event& head) const {
  Post p;
  p.body = body;
  p.last_seq = head.seq;
  std::string hash = chain_hash(head);
  std::string sig = collector::ed25519_sign(
      key_.raw_private, collector::chain_head_message(seat_id_, head.seq, hash));
  p.headers = {"Content-Type: application/x-ndjson", "X-Seatlock-Key: " + public_key_b64(),
               "X-Seatlock-Chain-Head: " + std::to_string(head.seq) + " " + hash,
               "X-Seatlock-Signature: " + base64_encode(sig)};
  return p;
}

std::string SeatSim::public_key_b64() const {
  return base64_encode(key_.raw_public);
}

}  // namespace seatlock::testing
