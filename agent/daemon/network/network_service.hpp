#pragma once
// seatlockd's network lockdown: puts the compiled ruleset (egress, inbound, forwarded) in force
// (owned table +
// fallback table, one transaction), ends exceptions at `until` on an exact timer, serves
// `net.status|close|open`, and turns NFLOG packets, nftables notifications and rtnetlink
// changes into events. Policy logic lives in core/net; OS access in os/net.
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/event/kinds.hpp"
#include "core/net/denied.hpp"
#include "core/net/net_rules.hpp"
#include "core/net/ruleset.hpp"
#include "daemon/service.hpp"
#include "os/base/event_loop.hpp"
#include "os/net/link_watch.hpp"
#include "os/net/nflog_receiver.hpp"
#include "os/net/nft.hpp"
#include "os/net/tamper_monitor.hpp"

namespace seatlock {

class NetworkService : public Service {
 public:
  explicit NetworkService(DaemonContext& ctx);
  ~NetworkService() override;

  std::string name() const override { return "network"; }
  void check(const Policy& policy) override;
  void apply(const Policy& policy) override;
  nlohmann::json status() const override;
  void stop() override;

  // The DNS guard (daemon/dns/dns_service.cpp) plugs in here. Every use of the nft context
  // (ruleset applies, counters, the guard's set updates from its own thread) holds nft_mutex().
  struct DnsGuardHooks {
    // Does the guard run for these rules (they have domain entries)? Then the ruleset
    // redirects DNS to net::kDnsGuardPort and has the domain sets.
    std::function<bool(const net::NetRules&)> wanted;
    // nft commands appended to every ruleset transaction, which replaces the tables and so
    // empties their sets: the guard puts back what it let in. Called with nft_mutex() held.
    std::function<std::string(const net::NetRules&, UnixMillis now)> refill;
    // After every successful apply, nft_mutex() still held.
    std::function<void(const net::NetRules&, UnixMillis now)> applied;
    // From the destructor: the guard must stop using this service.
    std::function<void()> network_gone;
  };
  void set_dns_guard_hooks(DnsGuardHooks hooks) { dns_hooks_ = std::move(hooks); }
  std::mutex& nft_mutex() { return nft_mutex_; }
  // One transaction on the context that owns the table; the caller holds nft_mutex().
  void run_nft_locked(const std::string& commands) { nft_->run(commands); }

 private:
  // network_service.cpp: applying and the control commands
  // `reason` goes into net.closed / net.opened when the effective closed state changes:
  // "local" (seatlockctl net close|open), "policy" (network.closed added or removed), "expired"
  // (its `until` passed, the seat's own timer).
  void put_in_force(net::NetRules rules, const std::string& why,
                    const std::string& reason = "policy");
  // The bookkeeping after a transaction put `compiled` in force ("in place" or "replaced").
  void in_force(net::NetRules rules, net::CompiledRuleset compiled, UnixMillis now,
                std::chrono::steady_clock::time_point t0, const std::string& why,
                const std::string& reason, const char* how);
  void report_closure_change(const std::string& reason, std::size_t suspended_exceptions,
                             const std::optional<NetClosure>& ended);
  nlohmann::json closed_by() const;
  void arm_expiry_timer();
  void report_expired(UnixMillis now);
  nlohmann::json set_closed(bool closed);
  nlohmann::json counters() const;
  void on_expiry();

  // network_watch.cpp: the three watchers
  void start_watchers();
  void on_logged_packet(const net::LoggedPacket& p);
  void flush_denied();
  void on_table_change(const net::TableChange& change);
  void verify_tables();
  void on_address(const net::AddressChange& c);
  void refresh_dhcp_servers();
  void on_default_route(const net::RouteChange& c);
  void on_interface(const net::InterfaceAdded& c);
  void check_planned_addresses();
  void report(EventKind kind, Severity severity, Outcome outcome, const std::string& rule,
              nlohmann::json details, std::optional<UserRef> user = std::nullopt);
  static int on_io(sd_event_source*, int fd, std::uint32_t, void* self);

  DaemonContext& ctx_;
  std::unique_ptr<net::Nft> nft_;
  std::unique_ptr<net::NflogReceiver> nflog_;
  std::unique_ptr<net::TamperMonitor> tamper_;
  std::unique_ptr<net::LinkWatch> links_;
  std::map<int, std::string> io_kind_;  // fd -> "nflog" | "tamper" | "links"
  std::vector<sd_event_source*> io_sources_;
  OneShotTimer expiry_timer_;  // at the next `until` (an exception's or the closure's)
  OneShotTimer window_timer_;  // closes the denied-packet windows of the three aggregators

  std::optional<net::NetRules> rules_;  // in force
  // What check() built (user and collector lookups) for the policy with this sha256; apply()
  // of the same policy takes it instead of building it again.
  std::optional<std::pair<std::string, net::NetRules>> checked_;
  net::CompiledRuleset compiled_;
  // The next apply replaces both tables instead of updating set elements in place: at start
  // and after someone else touched them (tampering, lost notifications).
  bool replace_tables_ = true;
  bool closed_ = false;
  std::int64_t window_ms_ = 60'000;
  std::set<std::pair<std::string, UnixMillis>> expired_reported_;  // (ticket, until)
  net::DeniedAggregator denied_;                                   // egress
  net::DeniedAggregator inbound_;                                  // input chain
  net::DeniedAggregator forward_;                                  // forward chain
  UnixMillis applied_at_ = 0;
  double last_apply_ms_ = 0;
  std::string last_error_;
  std::vector<std::string> watch_errors_;  // watchers that could not start
  std::uint64_t tamper_count_ = 0;
  std::uint64_t denied_events_ = 0;
  std::uint64_t inbound_events_ = 0;
  std::uint64_t forward_events_ = 0;
  DnsGuardHooks dns_hooks_;
  mutable std::mutex nft_mutex_;  // nft_ is used from the loop and the DNS guard's thread
};

}  // namespace seatlock
