#pragma once
// Admission control for the ingest listener: which connections are open, which have not
// authenticated yet, and the budgets that keep unauthenticated clients (slow TLS handshakes,
// trickled request heads) from crowding out seats:
//  - at most max_unauthenticated connections may be unauthenticated; a new connection beyond
//    that closes the OLDEST unauthenticated one instead of being refused;
//  - when all max_connections are taken, a new connection likewise displaces the oldest
//    unauthenticated one; authenticated connections are never displaced;
//  - one client address may hold at most max_unauthenticated_per_address unauthenticated
//    connections; more from that address are refused at once.
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace seatlock::collector {

struct ConnLimits {
  std::size_t max_connections = 4096;
  std::size_t max_unauthenticated = 1024;
  std::size_t max_unauthenticated_per_address = 128;
};

// Absolute deadlines per phase of a connection (a byte now and then does not extend them).
struct ConnTimeouts {
  int handshake_s = 10;  // TCP accept -> TLS handshake complete
  int head_s = 10;       // first byte of a request -> its head complete; for a connection that
                         // has not authenticated: handshake complete -> head complete
  int body_s = 60;       // head complete -> body complete; also for sending a response
  int idle_s = 60;       // an authenticated keep-alive connection waiting for its next request
};

class ConnRegistry {
 public:
  using Id = std::uint64_t;
  explicit ConnRegistry(const ConnLimits& limits) : limits_(limits) {}

  // A new socket from `address`: its id, or nullopt with the reason (the caller closes fd).
  // May shut down the oldest unauthenticated connection to make room.
  std::optional<Id> admit(int fd, const std::string& address, std::string& refused_because);
  // The connection proved which seat it is. false: it was displaced meanwhile (close it).
  bool authenticated(Id id);
  // Before the connection's fd is closed.
  void remove(Id id);
  // Displaces the oldest unauthenticated connection (out of file descriptors); false if none.
  bool displace_oldest_unauthenticated();

  struct Counts {
    std::size_t open = 0, unauthenticated = 0;
    std::uint64_t displaced = 0, refused = 0;
  };
  Counts counts() const;

 private:
  struct Entry {
    int fd;
    std::string address;
    bool authenticated = false;
    bool displaced = false;
  };
  bool displace_oldest_locked();
  void drop_unauthenticated_locked(Entry& e);

  ConnLimits limits_;
  mutable std::mutex mu_;
  std::map<Id, Entry> entries_;  // by id = accept order, oldest first
  std::unordered_map<std::string, std::size_t> unauth_by_address_;
  std::size_t live_ = 0;    // entries not displaced
  std::size_t unauth_ = 0;  // live entries not authenticated
  Id next_id_ = 1;
  Counts totals_;
};

}  // namespace seatlock::collector
