#include "sim_seat_crowd.hpp"

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "core/fleet/verify.hpp"
#include "raw_client.hpp"
#include "seat_sim.hpp"

namespace seatlock::bench {

using seatlock::testing::TlsConn;

SimSeatCrowd::SimSeatCrowd(std::vector<CrowdSeat> seats, int port, std::string ca,
                           std::string fleet_pin, std::uint64_t after, std::uint64_t want,
                           int wait_s)
    : seats_(std::move(seats)),
      port_(port),
      ca_(std::move(ca)),
      pin_(std::move(fleet_pin)),
      after_(after),
      want_(want),
      wait_s_(wait_s),
      outcomes_(seats_.size()) {}

SimSeatCrowd::~SimSeatCrowd() {
  for (auto& t : threads_)
    if (t.joinable()) t.join();
}

void SimSeatCrowd::connect_all() {
  for (std::size_t i = 0; i < seats_.size(); ++i) threads_.emplace_back([this, i] { run_seat(i); });
  while (polling_.load() < seats_.size())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

std::vector<CrowdOutcome> SimSeatCrowd::finish() {
  for (auto& t : threads_) t.join();
  threads_.clear();
  return outcomes_;
}

namespace {

// Seconds of a Retry-After header in a response head (1 when absent).
int retry_after_s(const std::string& head) {
  auto at = head.find("Retry-After:");
  if (at == std::string::npos) at = head.find("retry-after:");
  return at == std::string::npos ? 1 : std::max(1, std::atoi(head.c_str() + at + 12));
}

}  // namespace

double SimSeatCrowd::since_start() const {
  auto now = std::chrono::steady_clock::now().time_since_epoch().count();
  return std::chrono::duration<double>(std::chrono::steady_clock::duration(now - t0_ns_.load()))
      .count();
}

void SimSeatCrowd::run_seat(std::size_t i) {
  const CrowdSeat& s = seats_[i];
  CrowdOutcome& out = outcomes_[i];
  bool counted = false;
  auto polled = [&] {
    if (!counted) polling_.fetch_add(1);
    counted = true;
  };
  const std::string auth = "Authorization: Bearer " + s.token + "\r\n";
  auto poll_for = [&](int wait_s) {
    return "GET /v1/policy?after=" + std::to_string(after_) + "&wait=" + std::to_string(wait_s) +
           " HTTP/1.1\r\nHost: collector.test\r\n" + auth + "\r\n";
  };
  const std::string poll = poll_for(wait_s_);
  // Connected as a seat is before the command: the collector answered a first poll (nothing
  // newer: 204), so the connection is admitted and authenticated; then the long poll is held on
  // it. A seat shed at connect time (503 + Retry-After, a failed handshake) comes back as the
  // agent does.
  std::unique_ptr<TlsConn> conn;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(180);
  for (int backoff = 1;; backoff = std::min(backoff * 2, 8)) {
    if (std::chrono::steady_clock::now() > give_up) {
      out.error = "never connected";
      polled();
      return;
    }
    conn = std::make_unique<TlsConn>(port_, ca_, "", "", s.source);
    if (!conn->ok() || !conn->write(poll_for(0))) {
      std::this_thread::sleep_for(std::chrono::seconds(backoff));
      continue;
    }
    auto r = conn->read_response(30'000);
    if (r.status == 204 && conn->write(poll)) break;
    if (r.status != 503 && r.status != 0 && r.status != 204) {
      out.error = "first poll answered " + std::to_string(r.status);
      polled();
      return;
    }
    std::this_thread::sleep_for(
        std::chrono::seconds(r.status == 503 ? retry_after_s(r.head) : backoff));
  }
  polled();
  std::string document;
  for (;;) {
    auto r = conn->read_response((wait_s_ + 30) * 1000);
    if (r.status == 200) {
      out.bundle_s = since_start();
      document = r.body;
      break;
    }
    if (r.status != 204 || !conn->write(poll)) {
      out.error = "poll answered " + std::to_string(r.status);
      return;
    }
  }
  // As the seat: nothing is applied or acknowledged before the bundle verifies.
  fleet::SeatTrust trust{{pin_}, s.id, after_, seatlock::testing::now_ms()};
  auto verdict = fleet::verify_bundle(document, trust);
  if (!verdict.ok() || verdict.bundle->version != want_) {
    out.error = "bundle refused: " + verdict.reason;
    return;
  }
  // The bundle must carry the closure (network.closed) that the command wrote.
  bool closes = false;
  for (const auto& f : verdict.bundle->files) {
    auto doc = nlohmann::json::parse(f.text, nullptr, false);
    closes = closes || (doc.is_object() && doc.contains("network") && doc["network"].is_object() &&
                        doc["network"].contains("closed"));
  }
  if (!closes) {
    out.error = "version " + std::to_string(want_) + " carries no network.closed";
    return;
  }
  seatlock::testing::SeatSim sim(s.id);
  Event applied = sim.next("policy.applied", "info", seatlock::testing::now_ms(), "");
  applied.outcome = "applied";
  applied.details = {{"reason", "fleet bundle " + std::to_string(want_)},
                     {"fleet", {{"version", want_}, {"local_overrides", nlohmann::json::array()}}}};
  auto post = sim.post({applied});
  std::string req = "POST /v1/events HTTP/1.1\r\nHost: collector.test\r\n" + auth;
  for (const auto& h : post.headers) req += h + "\r\n";
  req += "Content-Length: " + std::to_string(post.body.size()) + "\r\n\r\n" + post.body;
  out.sent_s = since_start();
  if (!conn->write(req)) {
    out.error = "acknowledgement not sent";
    return;
  }
  auto r = conn->read_response(30'000);
  if (r.status != 200) {
    out.error = "acknowledgement answered " + std::to_string(r.status) + " " + r.body;
    return;
  }
  out.ack_s = since_start();
}

}  // namespace seatlock::bench
