#include "os/events/user_lookup.hpp"

#include <pwd.h>

#include <vector>

namespace seatlock {

std::optional<UserRef> user_for_uid(std::int64_t uid) {
  if (uid < 0) return std::nullopt;
  std::vector<char> buf(16384);
  passwd pw{}, *res = nullptr;
  UserRef u;
  u.uid = uid;
  if (getpwuid_r(uid_t(uid), &pw, buf.data(), buf.size(), &res) == 0 && res) u.name = res->pw_name;
  return u;
}

}  // namespace seatlock
