#include "os/events/reporter.hpp"

#include <pwd.h>
#include <sys/random.h>
#include <systemd/sd-login.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>

namespace seatlock {

std::string new_event_id(UnixMillis now) {
  unsigned char r[10];
  if (getrandom(r, sizeof r, 0) != static_cast<ssize_t>(sizeof r))
    throw std::runtime_error("getrandom failed");
  return make_uuid_v7(now, r);
}

std::optional<UserRef> active_session_user() {
  // The active session on seat0 is the person at the keyboard; fall back to any active session
  // (a console login on a machine without seats).
  char* session = nullptr;
  if (sd_seat_get_active("seat0", &session, nullptr) < 0 || !session) {
    char** sessions = nullptr;
    int n = sd_get_sessions(&sessions);
    for (int i = 0; i < n; ++i) {
      if (!session && sd_session_is_active(sessions[i]) > 0) session = strdup(sessions[i]);
      free(sessions[i]);
    }
    free(sessions);
    if (!session) return std::nullopt;
  }
  uid_t uid;
  int rc = sd_session_get_uid(session, &uid);
  free(session);
  if (rc < 0) return std::nullopt;
  UserRef u;
  u.uid = uid;
  if (passwd* pw = getpwuid(uid)) u.name = pw->pw_name;
  return u;
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
