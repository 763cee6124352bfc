#include "conn_registry.hpp"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cmath>

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

int BacklogShedder::retry_after_for(int fd, int listen_fd) {
  auto now = std::chrono::steady_clock::now();
  ++window_accepts_;
  double window_s = std::chrono::duration<double>(now - window_start_).count();
  if (window_s >= 0.5) {
    accepts_per_s_ = static_cast<double>(window_accepts_) / window_s;
    window_accepts_ = 0;
    window_start_ = now;
  }
  tcp_info conn{}, listener{};
  socklen_t len = sizeof conn;
  if (::getsockopt(fd, IPPROTO_TCP, TCP_INFO, &conn, &len) != 0) return 0;
  if (timeout_s_ <= 0 || conn.tcpi_last_data_recv < timeout_s_ * 1000) return 0;
  len = sizeof listener;
  if (::getsockopt(listen_fd, IPPROTO_TCP, TCP_INFO, &listener, &len) != 0) return 0;
  // For a listening socket tcpi_unacked is the length of its accept queue. Nobody behind this
  // connection (a seat that waited while slowloris connections held the budget): serving it
  // fully makes no one else late.
  const double queued = listener.tcpi_unacked;
  if (queued == 0) return 0;
  // Back after the queue has drained at the current accept rate, spread over [1 + d, 1 + 4d]:
  // the seats honour Retry-After exactly, and the shed ones return at about a third of the
  // rate they were shed at, which full uploads can carry.
  const double drain_s = queued / std::max(accepts_per_s_, 50.0);
  seed_ = seed_ * 6364136223846793005ULL + 1442695040888963407ULL;  // LCG: spread, not secrecy
  const double u = static_cast<double>(seed_ >> 11) / static_cast<double>(1ULL << 53);
  ++shed_;
  return static_cast<int>(std::clamp(std::ceil(1 + drain_s * (1 + 3 * u)), 1.0, 300.0));
}

}  // namespace seatlock::collector
