#include "conn_registry.hpp"

#include <sys/socket.h>

#include <algorithm>

namespace seatlock::collector {

void ConnRegistry::drop_unauthenticated_locked(Entry& e) {
  --unauth_;
  auto it = unauth_by_address_.find(e.address);
  if (it != unauth_by_address_.end() && --it->second == 0) unauth_by_address_.erase(it);
}

bool ConnRegistry::displace_oldest_locked() {
  for (auto& [id, e] : entries_) {
    if (e.authenticated || e.displaced) continue;
    // The session sees EOF and closes; its fd stays open until it calls remove().
    ::shutdown(e.fd, SHUT_RDWR);
    e.displaced = true;
    drop_unauthenticated_locked(e);
    --live_;
    ++totals_.displaced;
    return true;
  }
  return false;
}

std::optional<ConnRegistry::Id> ConnRegistry::admit(int fd, const std::string& address,
                                                    std::string& refused_because) {
  std::lock_guard lk(mu_);
  std::size_t max_unauth = std::min(limits_.max_unauthenticated, limits_.max_connections);
  auto per = unauth_by_address_.find(address);
  if (per != unauth_by_address_.end() && per->second >= limits_.max_unauthenticated_per_address) {
    ++totals_.refused;
    refused_because =
        std::to_string(per->second) + " connections from this address have not authenticated yet";
    return std::nullopt;
  }
  if (unauth_ >= max_unauth) displace_oldest_locked();
  if (live_ >= limits_.max_connections && !displace_oldest_locked()) {
    ++totals_.refused;
    refused_because = "all " + std::to_string(limits_.max_connections) +
                      " connections are taken by authenticated seats";
    return std::nullopt;
  }
  Id id = next_id_++;
  entries_.emplace(id, Entry{fd, address});
  ++unauth_by_address_[address];
  ++unauth_;
  ++live_;
  return id;
}

bool ConnRegistry::authenticated(Id id) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end() || it->second.displaced) return false;
  if (!it->second.authenticated) {
    it->second.authenticated = true;
    drop_unauthenticated_locked(it->second);
  }
  return true;
}

void ConnRegistry::remove(Id id) {
  std::lock_guard lk(mu_);
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  if (!it->second.displaced) {
    if (!it->second.authenticated) drop_unauthenticated_locked(it->second);
    --live_;
  }
  entries_.erase(it);
}

bool ConnRegistry::displace_oldest_unauthenticated() {
  std::lock_guard lk(mu_);
  return displace_oldest_locked();
}

ConnRegistry::Counts ConnRegistry::counts() const {
  std::lock_guard lk(mu_);
  Counts c = totals_;
  c.open = live_;
  c.unauthenticated = unauth_;
  return c;
}

}  // namespace seatlock::collector
