#pragma once
// Admission control for the ingest listener: which connections are open, which have not
// authenticated yet, and the budgets that keep unauthenticated clients (slow TLS handshakes,
// trickled request heads) from crowding out seats:
//  - at most max_unauthenticated connections may be unauthenticated and at most max_connections
//    open. When either budget is full the server stops ACCEPTING (reserve() says no): new
//    connections wait in the kernel's listen backlog until a slot frees, instead of pushing out
//    seats that are still handshaking (a reconnect storm after an outage is 10,000 honest seats
//    arriving at once; displacing the oldest handshake made them fail over and over);
//  - only a STALLED unauthenticated connection is ever displaced to make room: one that has not
//    even completed its ClientHello (the server has sent nothing yet) and that the server has
//    been waiting on for stall_s with nothing unread in its socket (slowloris: a byte, then
//    silence). A connection whose bytes are waiting for the server is making progress, and so
//    is a TLS client the server has answered: the handshake/head deadlines bound those;
//    3 s is a few TCP retransmission timeouts: an honest seat on a lossy link is not cut off,
//    and a handful of stalled connections lock nobody out for the whole handshake deadline;
//  - one client address may hold at most max_unauthenticated_per_address unauthenticated
//    connections; more from that address are refused at once.
// The absolute handshake/head deadlines (ConnTimeouts) bound how long anything stays
// unauthenticated either way.
// BacklogShedder: while the accept loop is paused, connections wait in the kernel's listen
// queue, and a seat's connect timeout (the agent's: 10 s, TCP + TLS) runs there. A reconnect
// storm larger than what the collector serves in that time (10,000 seats at ~750 uploads/s)
// would time out its tail; so, as HAProxy's `timeout queue` does, a connection that waited
// longer than queue_timeout_s with others still queued behind it gets the cheap path: TLS
// handshake, then 503 with Retry-After (no token check, body never read, nothing stored). It
// costs the collector about half of an upload, so the queue drains about twice as fast, and
// the Retry-After brings the seats back spread over the time the queue takes to drain.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

namespace seatlock::collector {

struct ConnLimits {
  std::size_t max_connections = 4096;
  std::size_t max_unauthenticated = 1024;
  std::size_t max_unauthenticated_per_address = 128;
  int stall_s = 3;             // waiting this long on a silent unauthenticated client = stalled
  double queue_timeout_s = 2;  // longer in the listen queue (with others behind it) = 503; 0 = off
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
  using Clock = std::chrono::steady_clock;
  // steady_clock nanoseconds of a connection's last I/O step (TlsStream stores it).
  using Activity = std::atomic<std::int64_t>;
  struct Admitted {
    Id id;
    Activity* activity;          // valid until remove(id)
    std::atomic<bool>* hello;    // set once the client's ClientHello was answered; same lifetime
    int busy_retry_after_s = 0;  // > 0: answer its request 503 with this Retry-After (shed)
  };

  explicit ConnRegistry(const ConnLimits& limits) : limits_(limits) {}

  // The accept loop asks before each accept: true = accept one connection now (a stalled
  // connection may have been displaced to make room); false = the loop is paused, and
  // on_room (set_on_room) runs once a slot frees or try_resume() finds one.
  bool reserve();
  // While paused: displaces a connection that has stalled since; true = the loop is resumed
  // (the caller accepts), false = still paused or not paused at all.
  bool try_resume();
  // Called (outside the lock, from any thread) when a paused accept loop may go on.
  void set_on_room(std::function<void()> on_room) { on_room_ = std::move(on_room); }

  // A new socket from `address`: its id, or nullopt with the reason (the caller closes fd).
  std::optional<Admitted> admit(int fd, const std::string& address, std::string& refused_because);
  // The connection proved which seat it is. false: it was displaced meanwhile (close it).
  bool authenticated(Id id);
  // Before the connection's fd is closed.
  void remove(Id id);
  // Out of file descriptors: displaces a stalled unauthenticated connection; false if none.
  bool displace_stalled();

  struct Counts {
    std::size_t open = 0, unauthenticated = 0;
    std::uint64_t displaced = 0, refused = 0, pauses = 0;
  };
  Counts counts() const;

 private:
  struct Entry {
    Entry(int f, std::string a) : fd(f), address(std::move(a)) {}
    int fd;
    std::string address;
    bool authenticated = false;
    bool displaced = false;
    Activity activity{Clock::now().time_since_epoch().count()};
    std::atomic<bool> hello{false};
  };
  bool has_room_locked() const;
  bool displace_stalled_locked();
  void drop_unauthenticated_locked(Id id, Entry& e);
  bool resume_if_room_locked();

  ConnLimits limits_;
  std::function<void()> on_room_;
  mutable std::mutex mu_;
  std::map<Id, Entry> entries_;  // by id = accept order, oldest first
  std::set<Id> unauth_ids_;      // live entries not authenticated
  std::unordered_map<std::string, std::size_t> unauth_by_address_;
  std::size_t live_ = 0;  // entries not displaced
  bool paused_ = false;
  Id next_id_ = 1;
  Counts totals_;
};

// Used by the accept loop only (one thread at a time).
class BacklogShedder {
 public:
  explicit BacklogShedder(double queue_timeout_s) : timeout_s_(queue_timeout_s) {}
  // For a connection just accepted from listen_fd: 0 = serve it, else the Retry-After (s) of
  // the 503 it gets. Its wait is the kernel's time since its last data (the ClientHello a
  // client sends right after connecting) or since the connection was established.
  int retry_after_for(int fd, int listen_fd);
  std::uint64_t shed() const { return shed_; }

 private:
  double timeout_s_;
  std::chrono::steady_clock::time_point window_start_ = std::chrono::steady_clock::now();
  std::size_t window_accepts_ = 0;
  double accepts_per_s_ = 0;  // of the last window of >= 0.5 s
  std::uint64_t seed_ = 0x9e3779b97f4a7c15ULL;
  std::atomic<std::uint64_t> shed_{0};
};

}  // namespace seatlock::collector
