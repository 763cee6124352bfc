// The user at the seat, from sd-login. In its own file so that a program that links the Reporter
// without a session lookup (seatlock-usbd, whose events seatlockd completes) does not need
// libsystemd.
#include <pwd.h>
#include <systemd/sd-login.h>

#include <cstdlib>
#include <cstring>

#include "os/events/reporter.hpp"

namespace seatlock {

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

}  // namespace seatlock
