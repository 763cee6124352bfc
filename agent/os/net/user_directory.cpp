#include "os/net/user_directory.hpp"

#include <grp.h>
#include <pwd.h>

#include <algorithm>
#include <set>
#include <stdexcept>

namespace seatlock::net {

void SystemUserDirectory::enumerate() {
  if (enumerated_) return;
  enumerated_ = true;
  setpwent();
  while (passwd* pw = getpwent()) accounts_.emplace(pw->pw_name, Account{pw->pw_uid, pw->pw_gid});
  endpwent();
}

std::optional<std::uint32_t> SystemUserDirectory::uid_of(const std::string& user) {
  enumerate();
  if (auto it = accounts_.find(user); it != accounts_.end()) return it->second.uid;
  std::vector<char> buf(16384);
  passwd pw{}, *res = nullptr;
  if (getpwnam_r(user.c_str(), &pw, buf.data(), buf.size(), &res) != 0 || !res) return std::nullopt;
  return res->pw_uid;
}

std::optional<std::vector<std::uint32_t>> SystemUserDirectory::members_of(
    const std::string& group) {
  std::vector<char> buf(1 << 16);
  struct group gr {
  }, *res = nullptr;
  if (getgrnam_r(group.c_str(), &gr, buf.data(), buf.size(), &res) != 0 || !res)
    return std::nullopt;
  std::set<std::uint32_t> uids;
  for (char** m = res->gr_mem; m && *m; ++m)
    if (auto uid = uid_of(*m)) uids.insert(*uid);
  // Users whose primary group is this one are not listed in gr_mem.
  enumerate();
  for (const auto& [name, account] : accounts_)
    if (account.gid == res->gr_gid) uids.insert(account.uid);
  return std::vector<std::uint32_t>(uids.begin(), uids.end());
}

std::vector<std::vector<std::uint32_t>> resolve_exception_uids(const NetworkPolicy& policy,
                                                               UserDirectory& dir) {
  std::vector<std::vector<std::uint32_t>> out;
  for (const auto& e : policy.exceptions) {
    auto where = " in network exception (ticket " + e.ticket +
                 (e.source.empty() ? "" : ", " + e.source) + ")";
    std::set<std::uint32_t> uids;
    for (const auto& u : e.users) {
      auto uid = dir.uid_of(u);
      if (!uid) throw std::runtime_error("unknown user '" + u + "'" + where);
      uids.insert(*uid);
    }
    for (const auto& g : e.groups) {
      auto members = dir.members_of(g);
      if (!members) throw std::runtime_error("unknown group '" + g + "'" + where);
      uids.insert(members->begin(), members->end());
    }
    out.emplace_back(uids.begin(), uids.end());
  }
  return out;
}

}  // namespace seatlock::net
