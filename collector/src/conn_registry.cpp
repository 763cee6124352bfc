#include "conn_registry.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>

namespace seatlock::collector {

bool ConnRegistry::has_room_locked() const {
  std::size_t max_unauth = std::min(limits_.max_unauthenticated, limits_.max_connections);
  return unauth_ids_.size() < max_unauth && live_ < limits_.max_connections;
}

void ConnRegistry::drop_unauthenticated_locked(Id id, Entry& e) {
  unauth_ids_.erase(id);
  auto it = unauth_by_address_.find(e.address);
  if (it != unauth_by_address_.end() && --it->second == 0) unauth_by_address_.erase(it);
}

// The unauthenticated connection the server has waited on longest, if that is at least
// stall_s, it has not got as far as a ClientHello, and nothing the client sent is waiting to be
// read (then the wait is the server's).
bool ConnRegistry::displace_stalled_locked() {
  const std::int64_t now = Clock::now().time_since_epoch().count();
  const std::int64_t stall =
      std::chrono::nanoseconds(std::chrono::seconds(limits_.stall_s)).count();
  Id victim = 0;
  std::int64_t oldest = now - stall;
  for (Id id : unauth_ids_) {
    Entry& e = entries_.at(id);
    if (e.hello.load(std::memory_order_relaxed)) continue;
    std::int64_t last = e.activity.load(std::memory_order_relaxed);
    if (last > oldest) continue;
    int unread = 0;
    if (::ioctl(e.fd, FIONREAD, &unread) == 0 && unread > 0) continue;
    victim = id;
    oldest = last;
  }
  if (victim == 0) return false;
  Entry& e = entries_.at(victim);
  // The session sees EOF and closes; its fd stays open until it calls remove().
  ::shutdown(e.fd, SHUT_RDWR);
  e.displaced = true;
  drop_unauthenticated_locked(victim, e);
  --live_;
  ++totals_.displaced;
  return true;
}

bool ConnRegistry::reserve() {
  std::lock_guard lk(mu_);
  if (has_room_locked() || (displace_stalled_locked() && has_room_locked())) return true;
  paused_ = true;
  ++totals_.pauses;
  return false;
}

bool ConnRegistry::resume_if_room_locked() {
  if (!paused_ || !has_room_locked()) return false;
  paused_ = false;
  return true;
}

bool ConnRegistry::try_resume() {
  std::lock_guard lk(mu_);
  if (!paused_) return false;
  if (!has_room_locked()) displace_stalled_locked();
  return resume_if_room_locked();
}

std::optional<ConnRegistry::Admitted> ConnRegistry::admit(int fd, const std::string& address,
                                                          std::string& refused_because) {
  std::lock_guard lk(mu_);
  auto per = unauth_by_address_.find(address);
  if (per != unauth_by_address_.end() && per->second >= limits_.max_unauthenticated_per_address) {
    ++totals_.refused;
    refused_because =
        std::to_string(per->second) + " connections from this address have not authenticated yet";
    return std::nullopt;
  }
  // reserve() made room before this connection was accepted; only the accept loop admits.
  Id id = next_id_++;
  auto [it, inserted] = entries_.try_emplace(id, fd, address);
  ++unauth_by_address_[address];
  unauth_ids_.insert(id);
  ++live_;
  return Admitted{id, &it->second.activity, &it->second.hello};
}

bool ConnRegistry::authenticated(Id id) {
  bool resume = false;
  {
    std::lock_guard lk(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.displaced) return false;
    if (!it->second.authenticated) {
      it->second.authenticated = true;
      drop_unauthenticated_locked(id, it->second);
      resume = resume_if_room_locked();
    }
  }
  if (resume && on_room_) on_room_();
  return true;
}

void ConnRegistry::remove(Id id) {
  bool resume = false;
  {
    std::lock_guard lk(mu_);
    auto it = entries_.find(id);
    if (it == entries_.end()) return;
    if (!it->second.displaced) {
      if (!it->second.authenticated) drop_unauthenticated_locked(id, it->second);
      --live_;
    }
    entries_.erase(it);
    resume = resume_if_room_locked();
  }
  if (resume && on_room_) on_room_();
}

bool ConnRegistry::displace_stalled() {
  std::lock_guard lk(mu_);
  return displace_stalled_locked();
}

ConnRegistry::Counts ConnRegistry::counts() const {
  std::lock_guard lk(mu_);
  Counts c = totals_;
  c.open = live_;
  c.unauthenticated = unauth_ids_.size();
  return c;
}

}  // namespace seatlock::collector
