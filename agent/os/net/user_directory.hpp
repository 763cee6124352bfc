#pragma once
// User and group names -> uids, for exceptions (`meta skgid` only sees a socket's primary
// group, so a group grant is expanded to the uids of all its members).
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/policy/policy.hpp"

namespace seatlock::net {

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  virtual std::optional<std::uint32_t> uid_of(const std::string& user) = 0;
  // Every uid whose primary group is `group` or who is listed as a member; nullopt when the
  // group does not exist.
  virtual std::optional<std::vector<std::uint32_t>> members_of(const std::string& group) = 0;
};

// NSS. The user database is enumerated once (getpwent) on first use and kept for the object's
// life (one policy check or apply): 2,000 users in exceptions or groups are 2,000 map lookups,
// not 2,000 reads of /etc/passwd. A name the enumeration lacks (an NSS source that does not
// enumerate) is still asked for with getpwnam_r.
class SystemUserDirectory : public UserDirectory {
 public:
  std::optional<std::uint32_t> uid_of(const std::string& user) override;
  std::optional<std::vector<std::uint32_t>> members_of(const std::string& group) override;

 private:
  struct Account {
    std::uint32_t uid, gid;
  };
  void enumerate();
  bool enumerated_ = false;
  std::unordered_map<std::string, Account> accounts_;
};

// uids of each exception in order; throws std::runtime_error naming the unknown user or group
// and where it came from.
std::vector<std::vector<std::uint32_t>> resolve_exception_uids(const NetworkPolicy& policy,
                                                               UserDirectory& dir);

}  // namespace seatlock::net
