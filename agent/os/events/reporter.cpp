#include "os/events/reporter.hpp"

#include <sys/random.h>
#include <unistd.h>

#include <stdexcept>

namespace seatlock {

std::string new_event_id(UnixMillis now) {
  unsigned char r[10];
  if (getrandom(r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
    throw std::runtime_error("getrandom failed");
  return make_uuid_v7(now, r);
}

SeatIdentity local_seat_identity(const std::string& configured_id) {
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  SeatIdentity s;
  s.hostname = host;
  s.seat_id = configured_id.empty() ? s.hostname : configured_id;
  return s;
}

Reporter::Reporter(EventSink& sink, SeatIdentity seat, UserLookup user_lookup)
    : sink_(&sink), seat_(std::move(seat)), user_lookup_(std::move(user_lookup)) {}

Event Reporter::prepare(Event e) {
  if (e.time == 0) e.time = now_millis();
  if (e.id.empty()) e.id = new_event_id(e.time);
  e.seat_id = seat_.seat_id;
  e.hostname = seat_.hostname;
  if (!e.user && user_lookup_) e.user = user_lookup_();
  if (e.policy_sha256.empty()) e.policy_sha256 = policy_sha256_;
  if (e.details.is_null()) e.details = nlohmann::json::object();
  return e;
}

void Reporter::report(Event draft) {
  sink_->post(prepare(std::move(draft)));
}

Event Reporter::report_stored(Event draft) {
  return sink_->append(prepare(std::move(draft)));
}

}  // namespace seatlock
