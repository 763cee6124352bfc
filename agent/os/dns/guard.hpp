#pragma once
// The DNS guard (docs/dns.md): listens on 127.0.0.1 and ::1 (UDP and TCP) at the port the nat
// redirect sends every DNS query of the seat to; answers the DoH canary NXDOMAIN, refuses names
// no domain entry admits (audit: forwards them, but reports them), forwards the others to the
// resolvers from marked sockets, and puts the answer's addresses into the entries' sets BEFORE
// the client gets the answer: `apply` returns only once the kernel acknowledged the nft
// transaction, so the first connection after a lookup is never dropped.
//
// Threads: GuardServer::serve blocks (seatlockd runs it on its own thread) and hands every
// message to a pool of workers, so queries proceed concurrently: a slow resolver answer holds
// up only its own client. Everything the guard knows is guarded by the `state` mutex given to
// the constructor; handle() takes it itself (never while it waits for a resolver, but while it
// writes the set update, so an answer still leaves only after the kernel took its addresses),
// the other methods must be called with it held. seatlockd passes the mutex that serialises its nft
// context, so a ruleset apply (with refill_commands in its transaction) and a set update never
// interleave.
#include <sys/socket.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/dns/answer_cache.hpp"
#include "core/dns/dns_denied.hpp"
#include "core/dns/domain_table.hpp"
#include "core/dns/refresh_schedule.hpp"
#include "core/dns/set_commands.hpp"
#include "core/net/net_rules.hpp"
#include "os/dns/upstream.hpp"
#include "os/dns/worker_pool.hpp"

namespace seatlock::dns {

struct GuardStats {
  std::uint64_t queries = 0;
  std::uint64_t forwarded = 0;
  std::uint64_t refused = 0;           // not admitted (enforce)
  std::uint64_t audited = 0;           // not admitted, forwarded anyway (audit)
  std::uint64_t canary = 0;            // use-application-dns.net
  std::uint64_t malformed = 0;         // FORMERR or dropped
  std::uint64_t failed = 0;            // SERVFAIL: no resolver answer, or the set update failed
  std::uint64_t elements = 0;          // set elements written
  std::uint64_t unchanged = 0;         // answered addresses whose element already lived long enough
  std::uint64_t capped = 0;            // answers with more addresses than max_addresses_per_name
  std::uint64_t capped_addresses = 0;  // addresses those answers left out of the sets
  std::uint64_t asker_unknown = 0;     // reported names whose asker's socket was already gone
  std::uint64_t refreshes = 0;         // names looked up again on the guard's own (the collector)
};

class Guard {
 public:
  // Applies an nft transaction (native syntax) and returns once the kernel acknowledged it;
  // throws on failure.
  using ApplySets = std::function<void(const std::string& commands)>;

  Guard(ApplySets apply, std::vector<std::string> tables, std::mutex& state);

  // ---- with `state` held ----
  // The rules in force (names, resolvers, mode), after a ruleset apply whose transaction
  // carried refill_commands(rules, now): what the guard promised lives on in the new sets.
  void set_rules(const net::NetRules& rules, UnixMillis now);
  // The set elements (nft commands for both tables; "" when none) that put back, into the sets
  // `rules` defines, every address the guard let in that is still alive at `now`. For the
  // transaction that replaces the tables (which makes the sets empty).
  std::string refill_commands(const net::NetRules& rules, UnixMillis now);
  void set_timeouts(const TimeoutPolicy& t) { timeouts_ = t; }
  void set_upstream_timeout(int ms) { upstream_.timeout_ms = ms; }
  DnsDeniedAggregator& denied() { return denied_; }
  const GuardStats& stats() const { return stats_; }
  const std::string& last_error() const { return last_error_; }
  // The last answer cut by max_addresses_per_name: "name: N addresses, M left out".
  const std::string& last_capped() const { return last_capped_; }
  std::size_t cached_names() const { return cache_.names(); }
  // The allowlist's names that are not wildcards (in force now): resolved at start.
  std::vector<std::string> exact_names() const {
    return table_ ? table_->exact_names() : std::vector<std::string>{};
  }

  // ---- takes `state` itself ----
  // Who asked: the uid owning the client's socket (-1 when unknown). Looked up only for a name
  // that is reported (refused, or audited): an admitted name needs no owner (exceptions' uids
  // are checked by the kernel's rules), which spares the common case the lookup.
  using Asker = std::function<std::int64_t()>;
  // One message from a client -> the reply bytes (empty: send nothing).
  std::vector<std::uint8_t> handle(const std::uint8_t* query, std::size_t len, bool tcp,
                                   const Asker& asker, UnixMillis now);
  std::vector<std::uint8_t> handle(const std::uint8_t* query, std::size_t len, bool tcp,
                                   std::int64_t uid, UnixMillis now) {
    return handle(
        query, len, tcp, [uid] { return uid; }, now);
  }
  // The names to look up again now, before their elements expire (the collector's host name,
  // core/dns/refresh_schedule): GuardServer::serve resolves them. A name is due again after the
  // retry interval until an answer puts its addresses in force.
  std::vector<std::string> due_refreshes(UnixMillis now);

 private:
  std::vector<std::uint8_t> forward(std::unique_lock<std::mutex>& lock, const std::uint8_t* query,
                                    std::size_t len, bool tcp, const std::string& name,
                                    std::vector<DomainTarget> targets, UnixMillis now);
  ApplySets apply_;
  std::vector<std::string> tables_;
  std::mutex& state_;
  std::optional<DomainTable> table_;
  std::uint64_t generation_ = 0;  // +1 per set_rules: a forward in flight re-matches its name
  Mode mode_ = Mode::Enforce;
  UpstreamOptions upstream_;
  TimeoutPolicy timeouts_;
  ElementExpiry expiry_;
  AnswerCache cache_;
  RefreshSchedule refresh_;
  DnsDeniedAggregator denied_;
  GuardStats stats_;
  std::string last_error_;
  std::string last_capped_;
};

// The sockets: UDP and TCP on 127.0.0.1:port and [::1]:port. serve() runs until stop() (from
// another thread or a signal handler) and hands every UDP message and every TCP connection to
// one of `workers` threads, which call `guard.handle`.
class GuardServer {
 public:
  static constexpr std::size_t kDefaultWorkers = 16;
  static constexpr std::size_t kMaxQueued = 4096;  // messages waiting for a worker
  // Binds; throws std::runtime_error.
  GuardServer(Guard& guard, std::uint16_t port, std::size_t workers = kDefaultWorkers);
  ~GuardServer();  // waits for the queries in flight (each up to the resolver timeout)
  GuardServer(const GuardServer&) = delete;
  GuardServer& operator=(const GuardServer&) = delete;
  // Serves until stop(); `tick` runs about every 200 ms (window flushes). Also resolves the
  // guard's due_refreshes (as the euid) when they are due.
  void serve(const std::function<void()>& tick = {});
  void stop();
  // Looks `names` up (A and AAAA) through the guard as if a client of uid `uid` had asked, on
  // the workers, without waiting: their addresses are in the sets before anyone uses them.
  void resolve(const std::vector<std::string>& names, std::int64_t uid);
  // Messages dropped because every worker was busy and the queue full, or on an internal error.
  std::uint64_t dropped() const { return dropped_; }

 private:
  bool udp_ready(int fd);
  void tcp_ready(int fd);
  void serve_tcp(int client, const sockaddr_storage& peer);
  Guard& guard_;
  std::uint16_t port_;
  std::vector<int> udp_, tcp_;
  int stop_pipe_[2] = {-1, -1};
  std::atomic<std::uint64_t> dropped_{0};
  std::unique_ptr<WorkerPool> pool_;  // destroyed first: its jobs use the sockets
};

}  // namespace seatlock::dns
