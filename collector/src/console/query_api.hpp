#pragma once
// The console's read APIs (issue 15): GET /api/events, /api/event, /api/seats, /api/seat,
// /api/person, /api/overview. Blocking; the server runs them off its I/O threads. Every one
// answers JSON, 400 naming the parameter for a bad one, 404 for something that is not there.
#include <cstdint>
#include <string>
#include <vector>

#include "console/api.hpp"
#include "http.hpp"
#include "store.hpp"

namespace seatlock::collector::console {

// A post-filtered page (outcome, q) stops after examining this many rows, or after this long,
// and answers what it found with `next` pointing where it stopped, so a rare match never makes
// one request scan the whole store (the page asks for the older rows again).
inline constexpr std::size_t kEventsScanBudget = 50'000;
inline constexpr int kEventsScanBudgetMs = 150;

HttpResponse api_events(EventStore& store, const ApiRequest& req);
HttpResponse api_event(EventStore& store, const ApiRequest& req);
HttpResponse api_seats(EventStore& store, const ApiRequest& req);
HttpResponse api_seat(EventStore& store, const ApiRequest& req);
HttpResponse api_person(EventStore& store, const ApiRequest& req);

// Seats whose applied fleet policy is behind the published one (from fleet_status.hpp, which
// needs the fleet configuration the server has; empty without one).
struct BehindSeat {
  std::string seat;
  std::uint64_t published = 0, applied = 0;
};
// now_ms: the server's clock (a parameter so tests can fix it).
HttpResponse api_overview(EventStore& store, const ApiRequest& req,
                          const std::vector<BehindSeat>& behind = {}, std::int64_t now_ms = 0);

// The cursor format of /api/events "next" (exposed for tests).
std::string encode_cursor(const EventStore::EventKey& k);
std::optional<EventStore::EventKey> decode_cursor(const std::string& s);

// "seat": ok | gaps (an unresolved gap) | broken (a break or conflict), from its findings.
std::string chain_status(const std::vector<Finding>& seat_findings);

}  // namespace seatlock::collector::console
