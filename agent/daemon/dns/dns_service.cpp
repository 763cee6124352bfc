// The DNS guard inside seatlockd.
//
// Thread: GuardServer::serve blocks (its workers answer the queries, many at once), so it runs
// on its own thread, never on the sd-event loop. Everything it shares with the loop (the
// nft context that owns the table, the guard's rules, cache and denied-name windows) is
// behind NetworkService::nft_mutex(); the guard drops it while it waits for a resolver.
//
// Hooks into the network service's applies: the ruleset gets the redirect and the domain sets
// while the policy has domain entries; every transaction that replaces the tables also puts
// back the addresses the guard let in that are still alive (replacing a table empties its
// sets), then the guard takes the new rules. Refused names become net.dns_denied events on the
// loop, one window at a time.
#include "daemon/dns/dns_service.hpp"

#include <unistd.h>

#include <set>
#include <thread>

#include "core/policy/event_mode.hpp"
#include "daemon/network/network_service.hpp"
#include "os/base/event_loop.hpp"
#include "os/base/log.hpp"
#include "os/dns/guard.hpp"
#include "os/dns/socket_owner.hpp"
#include "os/events/user_lookup.hpp"

namespace seatlock {

namespace {

using nlohmann::json;

bool has_domain_entries(const net::NetRules& rules) {
  if (!rules.allow_domains.empty()) return true;
  for (const auto& e : rules.exceptions)
    if (!e.allow_domains.empty()) return true;
  return false;
}

class DnsService : public Service {
 public:
  DnsService(DaemonContext& ctx, NetworkService& network)
      : ctx_(ctx),
        network_(network),
        guard_([this](const std::string& commands) { network_.run_nft_locked(commands); },
               {net::kOwnedTable, net::kFallbackTable}, network.nft_mutex()),
        window_timer_(ctx.loop, CLOCK_MONOTONIC, 10'000, "dns: denied-name window",
                      [this](std::uint64_t) {
                        flush_denied();
                        arm_window_timer();
                      }) {
    network_.set_dns_guard_hooks({[this](const net::NetRules& rules) { return wanted(rules); },
                                  [this](const net::NetRules& rules, UnixMillis now) {
                                    return guard_.refill_commands(rules, now);
                                  },
                                  [this](const net::NetRules& rules, UnixMillis now) {
                                    guard_.set_rules(rules, now);
                                    mode_ = rules.mode;
                                  },
                                  [this] { stop_guard(); }});
  }

  ~DnsService() override { stop_guard(); }

  std::string name() const override { return "dns"; }

  // The network service (before this one) already put the policy in force, calling the hooks.
  void apply(const Policy& policy) override {
    window_ms_ = policy.network.denied_window_ms > 0 ? policy.network.denied_window_ms : 60'000;
    if (!wanted_) stop_guard();  // no domain entries any more: no redirect, no guard
    std::vector<std::string> names;
    {
      std::lock_guard lock(network_.nft_mutex());
      dns::TimeoutPolicy t;
      t.floor_ms = policy.network.dns_guard.ttl_floor_ms;
      t.grace_ms = policy.network.dns_guard.grace_ms;
      t.cap_per_name = policy.network.dns_guard.max_addresses_per_name;
      guard_.set_timeouts(t);
      names = guard_.exact_names();
    }
    resolve_new_names(names);
    arm_window_timer();
  }

  json status() const override {
    json j;
    if (!server_) {
      j["state"] = error_.empty() ? "off" : "failed";  // failed: names do not resolve
      if (!error_.empty()) j["error"] = error_;
      return j;
    }
    std::lock_guard lock(network_.nft_mutex());
    j["state"] = thread_error_.empty() ? "running" : "failed";
    if (!thread_error_.empty()) j["error"] = thread_error_;
    const dns::GuardStats& s = guard_.stats();
    j["port"] = net::kDnsGuardPort;
    j["queries"] = s.queries;
    j["forwarded"] = s.forwarded;
    j["refused"] = s.refused;
    j["audited"] = s.audited;
    j["canary"] = s.canary;
    j["malformed"] = s.malformed;
    j["failed"] = s.failed;
    j["elements"] = s.elements;
    j["unchanged"] = s.unchanged;  // answered addresses whose element already lived long enough
    j["capped"] = s.capped;        // answers cut by network.dns_guard.max_addresses_per_name
    j["capped_addresses"] = s.capped_addresses;
    if (!guard_.last_capped().empty()) j["last_capped"] = guard_.last_capped();
    j["dropped"] = server_->dropped();
    j["asker_unknown"] = s.asker_unknown;
    j["refreshes"] = s.refreshes;  // the collector's name looked up again by the guard itself
    // How the askers were found (docs/dns.md "The guard" 3): UDP ones the exact lookup could
    // not tell (a sock_diag dump instead), and any sock_diag could not answer (/proc/net).
    j["owner_udp_dumps"] = dns::socket_owner_udp_dumps();
    j["owner_fallbacks"] = dns::socket_owner_fallbacks();
    if (j["owner_fallbacks"] != 0) j["owner_fallback_reason"] = dns::socket_owner_last_failure();
    j["resolved_at_start"] = resolved_.size();
    j["cached_names"] = guard_.cached_names();
    j["denied_events"] = denied_events_;
    j["summary"] = std::to_string(s.queries) + " queries, " + std::to_string(s.refused) +
                   " refused, " + std::to_string(guard_.cached_names()) + " names live";
    if (!guard_.last_error().empty()) j["last_error"] = guard_.last_error();
    return j;
  }

  void stop() override {
    // SIGTERM: names stop resolving (the redirect stays in the tables): fail closed.
    flush_denied();
    stop_guard();
    window_timer_.disarm();
  }

 private:
  // Called by every network apply, on the loop, before the nft lock is taken.
  bool wanted(const net::NetRules& rules) {
    wanted_ = has_domain_entries(rules);
    if (wanted_ && !server_) start_guard();
    // Even when the guard could not start, domain entries get the redirect: names then do not
    // resolve (fail closed) rather than reaching the resolvers unchecked.
    return wanted_;
  }

  // The allowlist's names (not wildcards) are looked up as soon as the guard has them, so the
  // first use is fast: the answers go into the sets like a client's. Each name once per guard
  // start; a reload that adds names looks up the new ones.
  void resolve_new_names(const std::vector<std::string>& names) {
    if (!server_) return;
    std::vector<std::string> fresh;
    for (const auto& n : names)
      if (resolved_.insert(n).second) fresh.push_back(n);
    if (fresh.empty()) return;
    server_->resolve(fresh, std::int64_t(::geteuid()));
    log_info("dns: resolving " + std::to_string(fresh.size()) + " allowlisted name(s) at start");
  }

  void start_guard() {
    try {
      server_ = std::make_unique<dns::GuardServer>(guard_, net::kDnsGuardPort);
    } catch (const std::exception& e) {
      error_ = std::string("DNS guard: ") + e.what();
      log_error(error_ + " (names will not resolve)");
      return;
    }
    error_.clear();
    thread_ = std::thread([this] {
      try {
        server_->serve();
      } catch (const std::exception& e) {
        std::lock_guard lock(network_.nft_mutex());
        thread_error_ = std::string("DNS guard stopped: ") + e.what();
        log_error(thread_error_);
      }
    });
    log_info("dns: guard listening on 127.0.0.1 and [::1] port " +
             std::to_string(net::kDnsGuardPort));
  }

  void stop_guard() {
    if (!server_) return;
    server_->stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    resolved_.clear();
    thread_error_.clear();
    log_info("dns: guard stopped");
  }

  // Every window_ms_ from the last apply (a failure is logged by the timer).
  void arm_window_timer() { (void)window_timer_.arm_in(std::uint64_t(window_ms_) * 1000); }

  // One window of refused names -> net.dns_denied events (bounded by the aggregator).
  void flush_denied() {
    dns::DnsDeniedWindow w;
    {
      std::lock_guard lock(network_.nft_mutex());
      if (guard_.denied().empty()) return;
      w = guard_.denied().take(now_millis());
    }
    const bool enforce = mode_ == Mode::Enforce;
    auto report = [&](json details, std::optional<UserRef> user) {
      Event e = make_event(EventKind::NetDnsDenied, enforce ? Severity::Medium : Severity::Low,
                           enforce ? Outcome::Blocked : Outcome::Reported, event_mode(mode_));
      e.rule = "network.allow";
      e.details = std::move(details);
      if (user) e.user = *user;
      try {
        ctx_.reporter.report(std::move(e));
        ++denied_events_;
      } catch (const std::exception& ex) {
        log_error(std::string("dns: cannot record net.dns_denied: ") + ex.what());
      }
    };
    for (const auto& g : w.groups) {
      auto user = user_for_uid(g.key.uid);
      report(dns::dns_denied_details(g, w, user ? user->name : ""), user);
    }
    if (w.overflow_queries) report(dns::dns_denied_overflow_details(w), std::nullopt);
  }

  DaemonContext& ctx_;
  NetworkService& network_;
  dns::Guard guard_;
  std::unique_ptr<dns::GuardServer> server_;
  std::thread thread_;
  OneShotTimer window_timer_;  // after guard_: released before what its handler uses
  std::int64_t window_ms_ = 60'000;
  Mode mode_ = Mode::Enforce;
  bool wanted_ = false;
  std::string error_;
  std::string thread_error_;  // the guard's thread ended on an error (under the nft mutex)
  std::uint64_t denied_events_ = 0;
  std::set<std::string> resolved_;  // names looked up at start since the guard started
};

}  // namespace

std::unique_ptr<Service> make_dns_service(DaemonContext& ctx, Service& network) {
  return std::make_unique<DnsService>(ctx, dynamic_cast<NetworkService&>(network));
}

}  // namespace seatlock
